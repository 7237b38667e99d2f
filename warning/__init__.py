"""hazard-warning: a multi-hazard early-warning stream processor."""

__version__ = "0.1.0"


def compiled() -> bool:
    """Return True if the engine's hot modules run compiled (setup.py), False if pure Python."""
    from warning.pipeline import evaluate

    return not evaluate.__file__.endswith(".py")
