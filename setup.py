"""Build hook: ``HAZARD_WARNING_COMPILE=1`` compiles the engine's hot modules with mypyc.

Everything else is in pyproject.toml, which lists the modules (``[tool.hazard-warning]``). The
default build is pure Python. The compiled build takes about 0.6 times the CPU per reading
(docs/PERFORMANCE.md); it needs a C compiler, mypy and the dependencies' types at build time
(see the message below; not ``-e``: a compiled module would shadow its edited source).
"""

import os
import tomllib
from pathlib import Path

from setuptools import setup

ext_modules = []
if os.environ.get("HAZARD_WARNING_COMPILE") == "1":
    try:
        from mypyc.build import mypycify
    except ImportError as e:
        msg = (
            "HAZARD_WARNING_COMPILE=1 needs mypy (and the dependencies' types) where it builds: "
            'pip install "setuptools>=68" wheel "mypy==2.4.1" types-PyYAML . , then '
            "HAZARD_WARNING_COMPILE=1 pip install --no-build-isolation --no-deps --force-reinstall ."
        )
        raise SystemExit(msg) from e

    here = Path(__file__).parent
    listed = tomllib.loads((here / "pyproject.toml").read_text())["tool"]["hazard-warning"]
    ext_modules = mypycify(listed["compiled"], opt_level="3", group_name="hazard_warning")

setup(ext_modules=ext_modules)
