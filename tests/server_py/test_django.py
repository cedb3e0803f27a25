"""Django projects found and served (server_py/django_project.py), in a Python of their own:
Django sets itself up once per process, as it does in the server tab's worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from server_py.django_project import settings_module
from tests.harness import REPO

REPOSITORY = REPO
SERVE = """
import json, sys
from server_py.site import RestartNeeded
from server_py.worker import SiteServer
from werkzeug.test import Client

root, address = sys.argv[1], sys.argv[2]
server = SiteServer(root, address=address)
load = server.load()
client = Client(server._app)
admin = client.get("/admin/login/", headers={"Host": "demo.localhost:8000"})
static = client.get("/static/admin/css/base.css", headers={"Host": "demo.localhost:8000"})
print(json.dumps({
    "load": load,
    "admin": [admin.status_code, admin.headers.get("X-Frame-Options")],
    "static": static.status_code,
    "again": server.load(),
}))
"""


def startproject(folder: Path) -> Path:
    admin = Path(sys.executable).with_name("django-admin")
    folder.mkdir()
    subprocess.run([str(admin), "startproject", "mysite", "."], cwd=folder, check=True)
    return folder


def serve(root: Path, address: str) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-c", SERVE, str(root), address],
        capture_output=True, text=True, timeout=120, cwd=root, env=environment,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_manage_py_names_the_settings_and_is_not_run(tmp_path: Path) -> None:
    root = startproject(tmp_path / "site")
    assert settings_module(root) == "mysite.settings"
    (root / "manage.py").write_text("raise SystemExit('never run')\n")
    assert settings_module(root) is None
    assert settings_module(tmp_path) is None  # no manage.py at all


def test_a_startproject_project_is_served_as_runserver_serves_it(tmp_path: Path) -> None:
    root = startproject(tmp_path / "site")
    result = serve(root, "http://demo.localhost:8000/")
    assert result["load"] == {
        "ok": True,
        "module": "Django: mysite",
        "noApp": None,
        "mainFile": "mysite/urls.py",
    }
    assert result["admin"] == [200, "DENY"]  # the shell shows it nonetheless (framing.js)
    assert result["static"] == 200  # the admin's CSS, in DEBUG, from its app
    assert result["again"]["restart"] is True  # new code needs a new Python


def test_a_public_address_that_allowed_hosts_refuses_is_named(tmp_path: Path) -> None:
    root = startproject(tmp_path / "site")
    warning = serve(root, "https://demo.example.org/")["load"]["warning"]
    assert "this site's address is demo.example.org, which ALLOWED_HOSTS = []" in warning
    assert 'ALLOWED_HOSTS = ["demo.example.org"]' in warning
    settings = root / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace("ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['.example.org']")
    )
    assert "warning" not in serve(root, "https://demo.example.org/")["load"]
