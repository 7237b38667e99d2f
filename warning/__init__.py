"""hazard-warning: a multi-hazard early-warning stream processor."""

__version__ = "0.1.0"
