"""Where the files the service serves are, besides its code: the browser's files (``web/``,
``runtime/``), the site templates and the built runtime bundle. An installed wheel carries them
in the package (``setup.py`` copies them to ``signaling/assets/``); a clone of the repository
has them at its top, the bundle once built (``peerserver build``)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_INSTALLED_ASSETS = Path(__file__).resolve().parent / "assets"
ASSETS = _INSTALLED_ASSETS if _INSTALLED_ASSETS.is_dir() else REPO
DEFAULT_BUNDLE = ASSETS / "build" / "runtime"
