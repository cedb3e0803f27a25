"""Loading a site folder: find its app the way ``flask run`` does, import it afresh, and put the
site's static files around it.

The variables of the site's ``.flaskenv`` and ``.env`` are put in ``os.environ`` first, as
``flask run`` does with python-dotenv: a project's config reads its secret key or database URL
there, and Flask its ``FLASK_*`` settings.

Discovery, in order: ``FLASK_APP`` from those files (``module``, ``module:name``,
``module:create_app()`` or ``path/to/file.py``); else ``wsgi.py`` or ``app.py`` with an app or
an app factory; else a package of the site with an app or a ``create_app``/``make_app``
factory. Flask's own ``flask.cli`` functions do the locating, so a project behaves as under
``flask run``. A module with a plain WSGI callable named ``app`` or ``application`` is served
too, and so is an ASGI app (Starlette, Quart, ...), in ``asgi.py`` or ``main.py`` as well, as
uvicorn's users name it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from server_py import django_project
from server_py.asgi import ASGIBridge, is_asgi_app
from server_py.static_files import StaticFiles
from server_py.wsgi import WSGIApp

# Module files tried in order when nothing names the app: `flask run`'s, then ASGI's habits.
APP_MODULES = ("wsgi", "app", "asgi", "main")
APP_NAMES = ("app", "application")
# Read in this order, the later one winning, as `flask run` reads them.
ENV_FILES = (".flaskenv", ".env")


@dataclass
class SiteLoadError(Exception):
    """The site's code failed to import; carries what the owner needs to fix it."""

    message: str
    traceback_text: str
    filename: str | None = None
    lineno: int | None = None
    # The installed package the error came from, {"name", "version"}: its release may predate
    # this Python (an old pin), which its owner can then be offered a newer one of.
    package: dict[str, str] | None = None

    def __str__(self) -> str:
        line = f", line {self.lineno}" if self.lineno else ""
        where = f"{self.filename}{line}: " if self.filename else ""
        return where + self.message


class RestartNeeded(Exception):
    """The site's new code can only be loaded by a new Python (Django's is set up once)."""


class Site:
    """A site folder under ``root``: static files and, optionally, a WSGI app. ``address`` is
    where visitors reach it (its public URL), for what the app must allow (Django's hosts)."""

    def __init__(self, root: str | Path, address: str = "") -> None:
        self.root = Path(root).resolve()
        self.address = address
        self.warning: str | None = None  # what will stop visitors, though the app loaded
        self.app_module: str | None = None  # what serves the site, e.g. "flaskr:create_app()"
        # The file an owner opens first: the one that makes the app (or the site's index page).
        self.main_file: str | None = None
        # Why no app was found, for a site with Python code but no app: what was tried.
        self.no_app_reason: str | None = None
        self.load_failure: SiteLoadError | None = None  # why the last load failed, if it did
        # The site's own app (Flask, WSGI or ASGI), as its code made it: the console's `app`.
        self.app: Any = None
        # The bridge to an ASGI app: its lifespan, its WebSockets and the loop they run on.
        self.asgi: ASGIBridge | None = None
        self._environ_set: set[str] = set()  # what the site's env files put in os.environ

    def environment(self) -> dict[str, tuple[str, str]]:
        """The variables the site's ``.flaskenv`` and ``.env`` set: ``{name: (value, file)}``."""
        variables = {}
        for name in ENV_FILES:
            path = self.root / name
            if path.is_file():
                import dotenv  # here: its import cost every load 28 ms in Pyodide

                values = dotenv.dotenv_values(path, encoding="utf-8").items()
                variables |= {key: (value, name) for key, value in values if value is not None}
        return variables

    def _set_environment(self, variables: dict[str, tuple[str, str]]) -> None:
        """Put the site's variables in ``os.environ``, in place of what the last load put there.

        As under ``flask run``, a variable the environment has already is left as it is.
        """
        for key in self._environ_set:
            os.environ.pop(key, None)
        self._environ_set = {key for key in variables if key not in os.environ}
        os.environ.update({key: variables[key][0] for key in self._environ_set})

    def load(self) -> WSGIApp:
        """Import the site's app, discarding any earlier import, and return the site's WSGI app.

        Raises :class:`SiteLoadError` when the site's code fails to import or has no app, and
        :class:`RestartNeeded` when only a new Python can load it.
        """
        variables = self.environment()
        django_settings = (
            None if "FLASK_APP" in variables else django_project.settings_module(self.root)
        )
        if django_settings is not None and django_project.is_set_up():
            raise RestartNeeded(
                "Django sets a project up once per Python: restarting Python to load the new "
                "code, as runserver restarts."
            )
        self._forget_site_modules()
        importlib.invalidate_caches()
        self.no_app_reason = None
        self.warning = None
        root = str(self.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        self._set_environment(variables)
        try:
            with self.instance_folders_in_site():
                if django_settings is not None:
                    app, described, in_package = self._django(django_settings)
                else:
                    app, described, in_package = self._locate(variables.get("FLASK_APP"))
        except SiteLoadError as error:
            self.load_failure = error
            raise
        except Exception as error:
            self.load_failure = self._load_error(error)
            raise self.load_failure from error
        self.load_failure = None
        # The previous app's lifespan ends only now: while the new code failed, it stayed live.
        if self.asgi is not None:
            self.asgi.shutdown()
        self.asgi = app if isinstance(app, ASGIBridge) else None
        self.app = app.app if isinstance(app, ASGIBridge) else app
        self.app_module = described
        self.main_file = self._main_file()
        # A package project's files are its source: only a site folder's files are public.
        served = app if in_package else StaticFiles(app, self.root)
        if getattr(self.app, "debug", False) is True:
            # Flask's debug mode (FLASK_DEBUG=1): an error shows its traceback, as under
            # `flask run --debug`, but without the debugger's console: visitors are not the owner.
            # Imported only here: most sites never need it, and every boot would pay for it.
            from werkzeug.debug import DebuggedApplication

            return DebuggedApplication(served, evalex=False, pin_security=False)
        return served

    def _django(self, settings: str) -> tuple[WSGIApp, str, bool]:
        """A Django project's app; what would keep visitors out goes to ``warning``."""
        app = django_project.load(settings)
        if is_asgi_app(app):
            bridge = ASGIBridge(app)
            bridge.startup()
            app = bridge
        if self.address:
            self.warning = django_project.host_problem(self.address, settings)
        return app, f"Django: {settings.rsplit('.', 1)[0]}", True

    def _locate(self, flask_app: tuple[str, str] | None) -> tuple[WSGIApp | None, str | None, bool]:
        from flask.cli import NoAppException, locate_app, prepare_import

        setting, env_file = flask_app or (None, None)
        if setting:
            path, _, name = setting.partition(":")
            import_name = prepare_import(str(self.root / path))
            try:
                app = locate_app(import_name, name or None)
            except NoAppException as error:
                named = getattr(sys.modules.get(import_name), name or "", None)
                if name.isidentifier() and callable(named):  # not Flask: WSGI or ASGI
                    return self._plain_app(import_name, (name,)), setting, _in_package(import_name)
                raise SiteLoadError(f"FLASK_APP={setting}: {error}", "", env_file) from None
            return app, setting, _in_package(import_name)
        for module in APP_MODULES:
            if (self.root / f"{module}.py").is_file():
                import_name = prepare_import(str(self.root / f"{module}.py"))
                try:
                    app = locate_app(import_name, None)
                except NoAppException:
                    if import_name not in sys.modules:  # it failed to import: say why
                        raise
                    app = self._plain_app(import_name)
                return app, f"{module}.py", False
        tried = [
            "FLASK_APP is not set in .flaskenv or .env",
            f"there is no {', '.join(f'{module}.py' for module in APP_MODULES)}",
        ]
        packages = sorted(self.root.glob("*/__init__.py"))
        for package in packages:
            import_name = package.parent.name
            if not import_name.isidentifier():
                tried.append(f"{import_name}/ is not a name Python can import")
                continue
            try:
                app = locate_app(import_name, None, raise_if_not_found=False)
            except NoAppException as error:
                module = sys.modules.get(import_name)
                plain = [name for name in APP_NAMES if callable(getattr(module, name, None))]
                if plain:  # a WSGI or ASGI app (FastAPI, say) that the package exports
                    return self._plain_app(import_name), f"{import_name}:{plain[0]}", True
                # A package without an app (a helper of the project), or one whose imports
                # failed: either way, the owner learns which and why.
                tried.append(f"package {import_name}: {str(error).strip()}")
                continue
            if app is not None:
                factory = any(
                    hasattr(sys.modules[import_name], f) for f in ("create_app", "make_app")
                )
                described = f"{import_name}:create_app()" if factory else import_name
                return app, described, True
        if not packages:
            tried.append("no folder of the site is a package (a folder with __init__.py)")
        if any(self.root.rglob("*.py")):
            self.no_app_reason = "No app found: " + "; ".join(tried) + "."
        return None, None, False

    def _main_file(self) -> str | None:
        """The site's file that makes its app: a Flask app's module (its factory's, too), the
        site module that holds the app, a Django project's URLconf; else its index page."""
        app = self.app
        module = None
        if isinstance(getattr(app, "import_name", None), str):  # Flask, Quart
            module = sys.modules.get(app.import_name)
        elif (self.app_module or "").startswith("Django:"):
            from django.conf import settings

            # Imported on the first request only: found, not imported.
            spec = importlib.util.find_spec(getattr(settings, "ROOT_URLCONF", "") or "urls")
            module = types.SimpleNamespace(__file__=spec.origin if spec else None)
        if module is None and app is not None:
            module = next(
                (m for m in list(sys.modules.values())
                 if self.is_site_file(getattr(m, "__file__", None) or "/")
                 and any(value is app for value in vars(m).values())),
                None,
            )  # fmt: skip
        file = getattr(module, "__file__", None)
        if file and self.is_site_file(file):
            return Path(file).resolve().relative_to(self.root).as_posix()
        index = next(
            (n for n in ("index.html", "static/index.html") if (self.root / n).is_file()), None
        )
        return index

    @contextlib.contextmanager
    def instance_folders_in_site(self) -> Iterator[None]:
        """Give the site's Flask apps their instance folder inside the site, as ``flask run`` does.

        Flask takes a package under ``sys.prefix`` for one installed to the system and puts its
        instance folder in ``PREFIX/var``. Pyodide's prefix is ``/``, so every site would get
        ``/var/NAME-instance``: outside the site, its persistence and its export.
        """
        import flask.sansio.app

        find_package = flask.sansio.app.find_package

        def find_site_package(import_name: str) -> tuple[str | None, str]:
            prefix, package_path = find_package(import_name)
            if PurePath(package_path).is_relative_to(self.root):
                return None, package_path
            return prefix, package_path

        flask.sansio.app.find_package = find_site_package
        try:
            yield
        finally:
            flask.sansio.app.find_package = find_package

    def _plain_app(self, import_name: str, names: tuple[str, ...] = APP_NAMES) -> WSGIApp:
        """The module's WSGI or ASGI callable that is not a Flask app."""
        module = sys.modules[import_name]
        app = next((getattr(module, name) for name in names if hasattr(module, name)), None)
        if not callable(app):
            raise SiteLoadError(
                f"{import_name}.py defines no app: expected a Flask app, or a WSGI or ASGI "
                f"callable named {' or '.join(names)}, such as app = Flask(__name__)",
                traceback_text="",
                filename=f"{import_name}.py",
            )
        if not is_asgi_app(app):
            return app
        bridge = ASGIBridge(app)
        bridge.startup()
        return bridge

    def _forget_site_modules(self) -> None:
        """Drop the site's modules from ``sys.modules`` so that an import sees the new code."""
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and self.is_site_file(file):
                del sys.modules[name]

    def _load_error(self, error: Exception) -> SiteLoadError:
        text = "".join(traceback.format_exception(error))
        filename, lineno = None, None
        # Flask wraps import errors: the site's own frame is in the original exception.
        cause = error.__cause__ or error.__context__ or error
        for candidate in (error, cause):
            if isinstance(candidate, SyntaxError) and candidate.filename:
                filename, lineno = candidate.filename, candidate.lineno
        if filename is None:
            # The innermost frame in the site's own code is where its owner has to look.
            for failure in (cause, error):
                for frame in traceback.extract_tb(failure.__traceback__):
                    if self.is_site_file(frame.filename):
                        filename, lineno = frame.filename, frame.lineno
                if filename:
                    break
        if filename is not None and self.is_site_file(filename):
            filename = Path(filename).resolve().relative_to(self.root).as_posix()
        return SiteLoadError(
            f"{type(error).__name__}: {error}",
            text,
            filename,
            lineno,
            failing_package(error, self.is_site_file),
        )

    def is_site_file(self, filename: str) -> bool:
        # Asked of every loaded module at each load: in strings, as pathlib's resolve and
        # is_relative_to made that 110 ms of a load in Pyodide.
        resolved = os.path.realpath(filename)
        root = str(self.root)
        return resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep)


def _in_package(import_name: str) -> bool:
    return "." in import_name or (
        sys.modules.get(import_name) is not None
        and getattr(sys.modules[import_name], "__path__", None) is not None
    )


def failing_package(
    error: BaseException, is_site_file: Callable[[str], bool]
) -> dict[str, str] | None:
    """The installed distribution whose code raised ``error`` (or the error it chains to):
    ``{"name", "version"}`` for the innermost frame in an installed package, unless a frame of
    the site's own code comes first (the site called the standard library wrongly, say)."""
    import importlib.metadata
    import sysconfig

    installed = Path(sysconfig.get_paths()["purelib"]).resolve()
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for failure in reversed(chain):  # the original error first
        for frame in reversed(traceback.extract_tb(failure.__traceback__)):
            if is_site_file(frame.filename):
                return None
            path = Path(frame.filename).resolve()
            if not path.is_relative_to(installed) or path == installed:
                continue
            top = path.relative_to(installed).parts[0].removesuffix(".py")
            names = importlib.metadata.packages_distributions().get(top)
            if names:
                return {"name": names[0], "version": importlib.metadata.version(names[0])}
    return None
