"""Loading a site folder: import its app afresh and put its static files around it."""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from server_py.static_files import StaticFiles
from server_py.wsgi import WSGIApp

# Module files tried in order, and the names a WSGI app is looked up under, as `flask run` does.
APP_MODULES = ("app", "wsgi")
APP_NAMES = ("app", "application")


@dataclass
class SiteLoadError(Exception):
    """The site's code failed to import; carries what the owner needs to fix it."""

    message: str
    traceback_text: str
    filename: str | None = None
    lineno: int | None = None

    def __str__(self) -> str:
        where = f"{self.filename}, line {self.lineno}: " if self.filename else ""
        return where + self.message


class Site:
    """A site folder under ``root``: static files and, optionally, a WSGI app module."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.app_module: str | None = None
        self.app: WSGIApp | None = None  # the site's own app, without the static files around it

    def load(self) -> WSGIApp:
        """Import the site's app, discarding any earlier import, and return the site's WSGI app.

        Raises :class:`SiteLoadError` when the site's code fails to import or has no app.
        """
        self._forget_site_modules()
        module_name = next(
            (name for name in APP_MODULES if (self.root / f"{name}.py").is_file()), None
        )
        self.app_module = module_name
        if module_name is None:
            self.app = None
            return StaticFiles(None, self.root)
        root = str(self.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        importlib.invalidate_caches()
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            raise self._load_error(error) from error
        app = next((getattr(module, name) for name in APP_NAMES if hasattr(module, name)), None)
        if not callable(app):
            raise SiteLoadError(
                f"{module_name}.py defines no WSGI app: expected a variable named "
                f"{' or '.join(APP_NAMES)}, such as app = Flask(__name__)",
                traceback_text="",
                filename=f"{module_name}.py",
            )
        self.app = app
        return StaticFiles(app, self.root)

    def _forget_site_modules(self) -> None:
        """Drop the site's modules from ``sys.modules`` so that an import sees the new code."""
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and self._is_site_file(file):
                del sys.modules[name]

    def _load_error(self, error: Exception) -> SiteLoadError:
        text = "".join(traceback.format_exception(error))
        filename, lineno = None, None
        if isinstance(error, SyntaxError) and error.filename:
            filename, lineno = error.filename, error.lineno
        else:
            # The innermost frame in the site's own code is where its owner has to look.
            for frame in traceback.extract_tb(error.__traceback__):
                if self._is_site_file(frame.filename):
                    filename, lineno = frame.filename, frame.lineno
        if filename is not None and self._is_site_file(filename):
            filename = str(Path(filename).resolve().relative_to(self.root))
        return SiteLoadError(f"{type(error).__name__}: {error}", text, filename, lineno)

    def _is_site_file(self, filename: str) -> bool:
        return Path(filename).resolve().is_relative_to(self.root)
