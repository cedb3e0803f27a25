"""The workbench under CPython: files, export/import, databases, console and flask commands."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server_py.console import console_command
from server_py.workbench import WorkbenchError, file_kind, project_files
from server_py.worker import SiteServer
from tests.harness import REPO
from tests.server_py.test_site import isolated_imports, write  # noqa: F401  (a fixture)

# Each test's sites are imported afresh: what they add to sys.path and sys.modules goes.
pytestmark = pytest.mark.usefixtures("isolated_imports")

APP = '''\
import sqlite3
import click
from flask import Flask, g

app = Flask(__name__)
DATABASE = "instance/site.db"


@app.cli.command("init-db")
def init_db():
    """Create the tables."""
    db = sqlite3.connect(DATABASE)
    db.executescript("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, picture BLOB);"
                     "INSERT INTO item (name, picture) VALUES ('lamp', x'00ff');")
    db.commit()
    click.echo("Initialized the database.")


@app.route("/")
def index():
    return "home"
'''


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteServer:
    monkeypatch.chdir(tmp_path)
    root = write(
        tmp_path / "site",
        {
            "app.py": APP,
            "index.html": "<p>hi</p>",
            "static/logo.png": b"\x89PNG\x00\x01",
            "instance/.keep": "",
        },
    )
    site_server = SiteServer(str(root))
    assert site_server.load()["ok"]
    return site_server


def test_file_kinds() -> None:
    assert [
        file_kind(p)
        for p in [
            "app.py",
            "templates/base.html",
            "index.html",
            "a/b.css",
            "x.js",
            "img/cat.JPG",
            "instance/site.db",
            "README",
        ]
    ] == ["python", "template", "html", "css", "javascript", "image", "database", "other"]


def test_files_create_read_rename_delete(server: SiteServer) -> None:
    bench = server.workbench
    bench.write_file("pages/new.html", b"<p>new</p>")
    assert bench.read_file("pages/new.html") == b"<p>new</p>"
    bench.rename("pages/new.html", "pages/renamed.html")
    paths = [entry["path"] for entry in bench.list_files()]
    assert "pages/renamed.html" in paths and "pages/new.html" not in paths
    bench.delete("pages/renamed.html")
    assert not (server.site.root / "pages").exists()  # emptied folders go too
    assert bench.read_file("static/logo.png") == b"\x89PNG\x00\x01"


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", "", " ", "x/../../y"])
def test_paths_outside_the_site_are_refused(server: SiteServer, bad: str) -> None:
    with pytest.raises(WorkbenchError):
        server.workbench.write_file(bad, b"x")


def test_rename_onto_an_existing_file_is_refused(server: SiteServer) -> None:
    with pytest.raises(WorkbenchError, match="already exists"):
        server.workbench.rename("index.html", "app.py")


def test_flask_commands_and_the_database(server: SiteServer) -> None:
    bench = server.workbench
    assert server.console.run("flask init-db") == "Initialized the database.\n"
    assert bench.databases() == ["instance/site.db"]
    assert bench.tables("instance/site.db") == [{"name": "item", "rows": 1}]
    page = bench.rows("instance/site.db", "item")
    assert page["columns"] == ["id", "name", "picture"]
    assert page["rows"] == [[1, "lamp", "00ff"]]
    changed = bench.query("instance/site.db", "INSERT INTO item (name) VALUES ('couch')")
    assert changed["changed"] == 1
    result = bench.query("instance/site.db", "SELECT name FROM item ORDER BY id")
    assert result["rows"] == [["lamp"], ["couch"]]
    with pytest.raises(WorkbenchError, match="no such table: missing"):
        bench.query("instance/site.db", "SELECT * FROM missing")
    assert "No such command" in server.console.run("flask no-such-command")


def test_console_runs_with_the_app_context(server: SiteServer) -> None:
    bench = server.console
    assert bench.run("1 + 2") == "3\n"
    assert bench.run("from flask import current_app\ncurrent_app.name") == ""
    assert bench.run("current_app.name") == "'app'\n"
    assert bench.run("x = 5") == ""
    assert bench.run("print(x * 2)") == "10\n"  # the namespace lives on
    assert "ZeroDivisionError" in bench.run("1 / 0")


def test_export_and_import_round_trip(server: SiteServer, tmp_path: Path) -> None:
    bench = server.workbench
    server.console.run("flask init-db")
    exported = bench.export_zip()
    assert "instance/site.db" in zipfile.ZipFile(io.BytesIO(exported)).namelist()
    bench.write_file("index.html", b"<p>changed</p>")
    bench.import_zip(exported)
    assert bench.read_file("index.html") == b"<p>hi</p>"
    assert bench.rows("instance/site.db", "item")["rows"][0][1] == "lamp"


def test_import_takes_off_a_single_top_folder(server: SiteServer) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project-main/flaskr/__init__.py", "def create_app(): pass\n")
        archive.writestr("project-main/README.md", "hello")
    assert server.workbench.import_zip(buffer.getvalue()) == ["README.md", "flaskr/__init__.py"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a zip", "not a zip archive"),
        ("empty", "holds no files"),
        ("no-site", "is not a site"),
        ("unsafe", "unsafe path"),
    ],
)
def test_invalid_archives_are_refused_and_the_site_stays(
    server: SiteServer, content: bytes | str, message: str
) -> None:
    if isinstance(content, str):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            if content == "no-site":
                archive.writestr("notes.txt", "just notes")
            elif content == "unsafe":
                archive.writestr("../evil.py", "x")
        content = buffer.getvalue()
    before = server.workbench.list_files()
    with pytest.raises(WorkbenchError, match=message):
        server.workbench.import_zip(content)
    assert server.workbench.list_files() == before


PACKAGE = ["flaskr/__init__.py", "flaskr/db.py"]
TUTORIAL = ["README.md", "pyproject.toml", *PACKAGE, "tests/test_db.py"]


@pytest.mark.parametrize(
    "names, filename, site",
    [
        # GitHub's "Download ZIP", or a zipped project folder: the wrapper is taken off.
        ([f"flask-main/{name}" for name in TUTORIAL], "flask-main.zip", TUTORIAL),
        # The project's files at the top of the archive.
        (TUTORIAL, "project.zip", TUTORIAL),
        # The project one level deeper in a wrapper: both folders are taken off.
        ([f"download/tutorial/{name}" for name in TUTORIAL], "download.zip", TUTORIAL),
        # A package folder alone stays a package: the site holds it as the project's root did.
        (["flaskr/__init__.py", "flaskr/db.py"], "x.zip", ["flaskr/__init__.py", "flaskr/db.py"]),
        (
            ["w/flaskr/__init__.py", "w/flaskr/db.py"],
            "w.zip",
            ["flaskr/__init__.py", "flaskr/db.py"],
        ),
        # A package's files without their folder: the archive's name names the package.
        (["__init__.py", "db.py"], "flaskr (1).zip", ["flaskr/__init__.py", "flaskr/db.py"]),
    ],
)
def test_projects_land_at_the_sites_root_whatever_their_zip(
    names: list[str], filename: str, site: list[str]
) -> None:
    files = project_files(names, filename)
    assert sorted(files) == sorted(site)
    assert all(name.endswith(path.rsplit("/", 1)[-1]) for path, name in files.items())


def test_a_packages_files_without_a_name_for_the_package_are_refused() -> None:
    with pytest.raises(WorkbenchError, match="name the archive after the package"):
        project_files(["__init__.py", "db.py"], "1234.zip")


@pytest.mark.parametrize(
    "line, command",
    [
        ("flask init-db", ["flask", "init-db"]),
        ("  pytest -k 'auth and not logout' -x  ", ["pytest", "-k", "auth and not logout", "-x"]),
        ("python -m pytest -q tests", ["pytest", "-q", "tests"]),
        ("pytest", ["pytest"]),
        ("print('pytest')", None),
        ("pytests = 1", None),
        ("flask = 3", None),
        ("python manage.py migrate", ["python", "manage.py", "migrate"]),
        ("python manage.py test polls", ["python", "manage.py", "test", "polls"]),
        ("python3 -m mytool --flag", ["python", "-m", "mytool", "--flag"]),
        ("python3 -m pytest -x", ["pytest", "-x"]),
        ("python == 2", None),
        ("python.version", None),
        ("x = 'unbalanced", None),
        ("", None),
    ],
)
def test_console_commands(line: str, command: list[str] | None, tmp_path: Path) -> None:
    assert console_command(line) == command
    # A test run gets a Python of its own; everything else runs in the one that serves.
    console = SiteServer(str(tmp_path)).console
    test_run = command is not None and (command[0] == "pytest" or command[2:3] == ["test"])
    assert console.runs_apart(line) == test_run


def test_python_runs_scripts_and_modules_as_at_a_terminal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = write(
        tmp_path / "site",
        {
            "tools/show.py": "import os, sys\nprint(sys.argv[1:], os.getcwd().endswith('site'),"
            " sys.path[0].endswith('tools'))\nraise SystemExit(3)\n",
            "greet.py": "import sys\nprint('hello', *sys.argv[1:])\n",
        },
    )
    console = SiteServer(str(root)).console
    path = list(sys.path)
    assert (
        console.run("python tools/show.py a 'b c'") == "['a', 'b c'] True True\n(exit status 3)\n"
    )
    assert console.run("python -m greet you") == "hello you\n"
    assert console.run("python -c 'print(6 * 7)'") == "42\n"
    assert "no such file in the site" in console.run("python missing.py")
    assert "ZeroDivisionError" in console.run("python -c '1/0'")
    assert sys.path == path
    served = console.run("python manage.py runserver")
    assert "no such file" in served  # no manage.py here: not a Django project


def test_a_commands_questions_are_asked_and_it_runs_again_answered(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = write(
        tmp_path / "site",
        {"ask.py": "import getpass, sys\nname = input('Name: ')\n"
         "assert sys.stdin.isatty()\nsecret = getpass.getpass()\n"
         "print(f'{name} has a secret of {len(secret)} letters')\n"},
    )  # fmt: skip
    console = SiteServer(str(root)).console
    assert console.line("python ask.py") == {
        "output": "Name: ", "prompt": "Name: ", "secret": False
    }  # fmt: skip
    assert console.line("python ask.py", ["ada"]) == {
        "output": "Name: ada\nPassword: ", "prompt": "Password: ", "secret": True
    }  # fmt: skip
    done = console.line("python ask.py", ["ada", "hunter2"])
    assert done == {"output": "Name: ada\nPassword: \nada has a secret of 7 letters\n"}
    assert "hunter2" not in done["output"]


SITE_TESTS = {
    "tests/conftest.py": "import pytest\nfrom app import app as flask_app\n\n"
    "@pytest.fixture\ndef client():\n    return flask_app.test_client()\n",
    "tests/test_site.py": "def test_index(client):\n    assert client.get('/').data == b'home'\n\n"
    "def test_writes(tmp_path):\n"
    "    (tmp_path / 'x.txt').write_text('in its own folder')\n"
    "    open('index.html', 'w').write('overwritten by a test')\n"
    "    open('new-file.txt', 'w').write('left by a test')\n\n"
    "def test_fails():\n    total = 1 + 1\n    assert total == 3\n",
}


REPOSITORY = REPO
# Run in a Python of its own: pytest inside this test run would load this run's plugins, and
# share its modules. The site's tests run as in a server tab; the script reports as JSON.
RUN_SITE_TESTS = """
import json, sys
from pathlib import Path
from server_py.worker import SiteServer

root = Path(sys.argv[1])
server = SiteServer(str(root))
assert server.load()["ok"]
files = lambda: {str(p): p.read_bytes().hex() for p in root.rglob("*") if p.is_file()}
before, path, modules = files(), list(sys.path), set(sys.modules)
pieces = []
server.console.output = pieces.append
returned = server.console.run("pytest")
server.console.output = None
print(json.dumps({
    "returned": returned,
    "pieces": pieces,
    "files_kept": files() == before,
    "path_kept": sys.path == path,
    "new_site_modules": sorted(
        name for name in set(sys.modules) - modules
        if str(getattr(sys.modules[name], "__file__", "")).startswith(str(root))
    ),
    "again": server.console.run("python -m pytest -q -k index"),
    "tools_needed": server.console.tools_needed("pytest -q"),
}))
"""


@pytest.mark.skipif(sys.platform == "emscripten", reason="starts a Python of its own")
def test_pytest_runs_the_sites_tests_and_leaves_the_site_as_it_was(tmp_path: Path) -> None:
    root = write(tmp_path / "site", {"app.py": APP, "index.html": "<p>hi</p>", **SITE_TESTS})
    environment = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPATH": str(REPOSITORY),
    }
    run = subprocess.run(
        [sys.executable, "-c", RUN_SITE_TESTS, str(root)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    report = "".join(result["pieces"])
    assert result["returned"] == "" and len(result["pieces"]) > 5  # as pytest wrote it
    assert "1 failed, 2 passed" in report and "assert 2 == 3" in report, report
    assert result["files_kept"], "a test's writes, a cache or bytecode stayed in the site"
    assert result["path_kept"] and result["new_site_modules"] == []
    assert "1 passed, 2 deselected" in result["again"]
    assert result["tools_needed"] == []


def test_flask_commands_without_an_app_say_why(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = write(tmp_path / "site", {"notes.py": "NOTES = []\n"})
    server = SiteServer(str(root))
    assert server.load()["noApp"].startswith("No app found: ")
    answer = server.console.run("flask init-db")
    assert answer.startswith("This site has no Flask app, so it has no flask commands. No app")
    write(root, {"app.py": "from flask import Flask\napp = Flask(__name__\n"})
    assert not server.load()["ok"]
    answer = server.console.run("flask init-db")
    assert answer.startswith("The site's code failed to load, so its flask commands cannot run:")
    assert "app.py, line 2: SyntaxError" in answer, answer
