"""Build hook: ``HAZARD_WARNING_COMPILE=1`` compiles the engine's hot modules with mypyc.

Everything else is in pyproject.toml, which lists the modules (``[tool.hazard-warning]``). The
default build is pure Python. The compiled build takes about 0.6 times the CPU per reading
(docs/PERFORMANCE.md); it needs mypy and a C compiler at build time, so install it with
``HAZARD_WARNING_COMPILE=1 pip install --no-build-isolation .`` (not ``-e``: a compiled module
would shadow its edited source).
"""

import os
import tomllib
from pathlib import Path

from setuptools import setup

ext_modules = []
if os.environ.get("HAZARD_WARNING_COMPILE") == "1":
    from mypyc.build import mypycify

    here = Path(__file__).parent
    listed = tomllib.loads((here / "pyproject.toml").read_text())["tool"]["hazard-warning"]
    ext_modules = mypycify(listed["compiled"], opt_level="3", group_name="hazard_warning")

setup(ext_modules=ext_modules)
