"""Only what pyproject.toml cannot say: a regular (non-editable) build carries the sample
district, the real district outlines and the built console inside the package
(``gis_core/_shipped/``, found by ``gis_core.paths``), so that ``pip install .`` then
``gridgov demo`` works from any directory. Editable installs read them from the checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = {
    "data/sample_grids": "sample_grids",
    "data/districts": "districts",
    "web/dist": "web_dist",
}


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, name in SHIPPED.items():
            target = Path(self.build_lib) / "gis_core" / "_shipped" / name
            shutil.copytree(HERE / source, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
