"""The wheel carries the built runtime bundle and the browser's files inside the package
(``signaling/assets/``, found by :data:`signaling.locations.ASSETS`), so that where it is installed
``peerserver serve`` needs no Node.js, npm or build step. Everything else is in pyproject.toml.

Build it with ``nox -s dist``, which builds the bundle first.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# The folders the service serves from, as laid out in the repository.
ASSET_FOLDERS = ("web", "runtime", "site_templates", "build/runtime")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install serves the repository's own folders
        if not (HERE / "build" / "runtime" / "manifest.json").is_file():
            raise SystemExit(
                "The runtime bundle is not built: run `nox -s dist` (or `peerserver build` "
                "first, which needs Node.js and npm)."
            )
        assets = Path(self.build_lib) / "signaling" / "assets"
        for folder in ASSET_FOLDERS:
            shutil.copytree(
                HERE / folder,
                assets / folder,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(
    cmdclass={"build_py": BuildWithAssets},
    # setuptools' own scratch folder, apart from build/runtime, which is the bundle.
    options={"build": {"build_base": "build/setuptools"}},
)
