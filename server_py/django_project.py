"""Django projects, as ``django-admin startproject`` makes them, served as ``manage.py runserver``
serves them.

A project is known by its ``manage.py``, which names the settings module
(``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")``); it is read, not run.
The app is the settings' ``WSGI_APPLICATION`` (``ASGI_APPLICATION`` when only that is set), and
in DEBUG the static files of the installed apps (the admin's CSS and JS) are served around it,
as runserver does. Django sets itself up once per Python (its app registry cannot be filled
twice), so changed code is loaded by a new Python, as runserver's autoreloader restarts its
process.

Django refuses requests for a host its ``ALLOWED_HOSTS`` does not name (DEBUG lets
``*.localhost`` in); :func:`host_problem` tells the owner, before any visitor meets a bare 400,
which setting to change and to what.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import Any

SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"


def settings_module(root: Path) -> str | None:
    """The settings module a project's ``manage.py`` names, or None if it names none."""
    manage = root / "manage.py"
    if not manage.is_file():
        return None
    try:
        tree = ast.parse(manage.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and all(isinstance(arg, ast.Constant) for arg in node.args)
            and node.args[0].value == SETTINGS_VARIABLE  # type: ignore[attr-defined]
            and isinstance(node.args[1].value, str)  # type: ignore[attr-defined]
        ):
            return node.args[1].value  # type: ignore[attr-defined,no-any-return]
    return None


def is_set_up() -> bool:
    """Whether Django has set itself up in this Python already (its apps are loaded)."""
    apps = sys.modules.get("django.apps")
    return apps is not None and apps.apps.ready


def load(settings: str) -> Any:
    """The project's app (WSGI or ASGI), as ``runserver`` would serve it."""
    os.environ.setdefault(SETTINGS_VARIABLE, settings)  # (the async switch: server_py.shims)
    import django
    from django.conf import settings as configured
    from django.utils.module_loading import import_string

    django.setup(set_prefix=False)
    entry = getattr(configured, "WSGI_APPLICATION", None) or getattr(
        configured, "ASGI_APPLICATION", None
    )
    if entry:
        app = import_string(entry)
    else:
        from django.core.wsgi import get_wsgi_application

        app = get_wsgi_application()
    if configured.DEBUG and "django.contrib.staticfiles" in configured.INSTALLED_APPS:
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler, StaticFilesHandler

        from server_py.asgi import is_asgi_app

        app = ASGIStaticFilesHandler(app) if is_asgi_app(app) else StaticFilesHandler(app)
    return app


def host_problem(address: str, settings: str) -> str | None:
    """What to change so that Django lets in requests for the site's ``address`` (its public
    URL), or None if it does. Django must be set up."""
    from urllib.parse import urlsplit

    from django.conf import settings as configured
    from django.http.request import validate_host

    host = urlsplit(address).hostname or ""
    allowed = list(configured.ALLOWED_HOSTS)
    if configured.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django does
    if not host or validate_host(host, allowed):
        return None
    path = settings.replace(".", "/") + ".py"
    shown = f"ALLOWED_HOSTS = {list(configured.ALLOWED_HOSTS)!r}"
    return (
        f"Django will refuse your visitors with 400 Bad Request: this site's address is "
        f"{host}, which {shown} in {path} does not allow. Add it there: "
        f'ALLOWED_HOSTS = ["{host}"]'
    )
