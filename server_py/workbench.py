"""What the server tab's workbench does to a site: its files, zip export and import, its sqlite
databases, and a Python console (with the app's ``flask`` commands) inside the site's runtime.

Paths are ``/``-separated and relative to the site folder; anything that would leave the
folder is refused with :class:`WorkbenchError`, whose message is meant for the site's owner.
"""

from __future__ import annotations

import builtins
import contextlib
import getpass
import importlib.util
import io
import os
import re
import runpy
import shlex
import shutil
import sqlite3
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from server_py import shims
from server_py.site import Site

DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp")
MAX_ROWS = 500
# Always given to pytest in the console, before the owner's own arguments (which may override
# them): no .pytest_cache in the site, output captured through sys (WebAssembly has no real
# file descriptors to redirect), and no faulthandler, which wants one.
PYTEST_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:faulthandler", "--capture=sys", "--color=no")


class WorkbenchError(Exception):
    """Something the owner asked for cannot be done; the message says why."""


def file_kind(path: str) -> str:
    """What a file is, for the file tree's icons and the editor's language."""
    pure = PurePosixPath(path)
    suffix = pure.suffix.lower()
    if suffix == ".py":
        return "python"
    if pure.parts[0] == "templates" or suffix in (".jinja", ".jinja2", ".j2"):
        return "template"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".css":
        return "css"
    if suffix in (".js", ".mjs"):
        return "javascript"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in DATABASE_SUFFIXES:
        return "database"
    return "other"


class Workbench:
    """The owner's tools for one :class:`~server_py.site.Site`.

    ``output``, if given, gets the console's output of a long command (``pytest``) as it is
    produced, instead of all of it at the end.
    """

    def __init__(self, site: Site, output: Callable[[str], None] | None = None) -> None:
        self.site = site
        self.root = site.root
        self.output = output
        self._console_namespace: dict[str, Any] = {}

    # -- files -------------------------------------------------------------------------------

    def list_files(self) -> list[dict[str, Any]]:
        """Every file of the site (caches left out), sorted by path."""
        files = []
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if path.is_file() and "__pycache__" not in path.parts:
                files.append(
                    {"path": relative, "size": path.stat().st_size, "kind": file_kind(relative)}
                )
        return files

    def read_file(self, path: str) -> bytes:
        target = self._path(path)
        if not target.is_file():
            raise WorkbenchError(f"There is no file {path}.")
        return target.read_bytes()

    def write_file(self, path: str, data: bytes) -> None:
        target = self._path(path)
        if target.is_dir():
            raise WorkbenchError(f"{path} is a folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(data))

    def rename(self, old: str, new: str) -> None:
        source, target = self._path(old), self._path(new)
        if not source.exists():
            raise WorkbenchError(f"There is no file {old}.")
        if target.exists():
            raise WorkbenchError(f"{new} already exists.")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)

    def delete(self, path: str) -> None:
        target = self._path(path)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            raise WorkbenchError(f"There is no file {path}.")
        self._prune_empty_folders(target.parent)

    def _path(self, path: str) -> Path:
        pure = PurePosixPath(path.strip())
        if not pure.parts or pure.is_absolute() or ".." in pure.parts or "" in pure.parts:
            raise WorkbenchError(f'"{path}" is not a valid file name inside the site.')
        return self.root.joinpath(*pure.parts)

    def _prune_empty_folders(self, folder: Path) -> None:
        while folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    # -- export and import ---------------------------------------------------------------------

    def export_zip(self) -> bytes:
        """The whole site, its databases included, as a zip archive."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in self.list_files():
                archive.write(self.root / entry["path"], entry["path"])
        return buffer.getvalue()

    def import_zip(self, data: bytes, filename: str = "") -> list[str]:
        """Replace the site with the files of a zip archive; returns the new file list.

        Projects come zipped in several shapes (see :func:`project_files`); each lands so that
        the site's root is the project's root, where ``flask run`` would run. Anything else is
        refused before the current site is touched. ``filename`` is the archive's name.
        """
        try:
            archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, ValueError) as error:
            raise WorkbenchError(f"This file is not a zip archive ({error}).") from None
        names = [name for name in names if "__MACOSX" not in name and "__pycache__" not in name]
        if not names:
            raise WorkbenchError("The zip archive holds no files.")
        for name in names:
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts:
                raise WorkbenchError(f'The zip archive has an unsafe path: "{name}".')
        files = project_files(names, filename)
        if not any(_makes_a_site(path) for path in files):
            raise WorkbenchError(
                "The zip archive is not a site: it has no Python files (.py), no .flaskenv and "
                "no HTML page."
            )
        contents = {}
        try:
            for relative, name in files.items():
                contents[relative] = archive.read(name)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise WorkbenchError(f"The zip archive is damaged ({error}).") from None
        for child in self.root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        for relative, content in contents.items():
            self.write_file(relative, content)
        return sorted(contents)

    # -- databases -----------------------------------------------------------------------------

    def databases(self) -> list[str]:
        """The sqlite database files of the site."""
        return [entry["path"] for entry in self.list_files() if entry["kind"] == "database"]

    def tables(self, database: str) -> list[dict[str, Any]]:
        with self._connect(database) as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return [
                {
                    "name": name,
                    "rows": connection.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[
                        0
                    ],
                }
                for name in names
            ]

    def rows(self, database: str, table: str, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """One page of a table's rows."""
        limit = max(1, min(int(limit), MAX_ROWS))
        with self._connect(database) as connection:
            known = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if table not in known:
                raise WorkbenchError(f"There is no table {table} in {database}.")
            total = connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
            cursor = connection.execute(
                f"SELECT * FROM {_quote(table)} LIMIT ? OFFSET ?", (limit, max(0, int(offset)))
            )
            return {
                "columns": [column[0] for column in cursor.description],
                "rows": [_plain_row(row) for row in cursor],
                "total": total,
                "offset": offset,
            }

    def query(self, database: str, sql: str) -> dict[str, Any]:
        """Run SQL; returns the first rows of a result, or how many rows changed."""
        with self._connect(database) as connection:
            try:
                cursor = (
                    connection.execute(sql)
                    if ";" not in sql.strip().rstrip(";")
                    else connection.executescript(sql)
                )
                columns = [column[0] for column in cursor.description or []]
                rows = [_plain_row(row) for row in cursor.fetchmany(MAX_ROWS)] if columns else []
                connection.commit()
            except sqlite3.Error as error:
                raise WorkbenchError(f"{type(error).__name__}: {error}") from None
            return {"columns": columns, "rows": rows, "changed": connection.total_changes}

    @contextlib.contextmanager
    def _connect(self, database: str) -> Iterator[sqlite3.Connection]:
        path = self._path(database)
        if not path.is_file():
            raise WorkbenchError(f"There is no database {database}.")
        connection = sqlite3.connect(path)
        try:
            yield connection
        finally:
            connection.close()

    # -- console -------------------------------------------------------------------------------

    def run(self, source: str) -> str:
        """What a console line printed (see :meth:`console`; a question goes unanswered)."""
        return self.console(source)["output"]

    def console(self, source: str, answers: Sequence[str] = ()) -> dict[str, Any]:
        """Run a line typed into the console: Python with the app's context, or a command as
        at a terminal in the site's folder: ``flask ARGS`` (the app's command line),
        ``pytest ARGS``, ``python manage.py ARGS`` and ``python SCRIPT``, ``-m MODULE`` or
        ``-c CODE``.

        Returns ``{"output"}``, what it printed (empty when it went to ``output`` as it came).
        A command that asks a question (``input()``, ``getpass``: ``createsuperuser``'s
        prompts) and has no answer left stops there, with ``{"prompt", "secret"}`` added: the
        console asks the owner and runs the line again, ``answers`` holding the answers so
        far, in order (the questions come again, answered).
        """
        command = console_command(source)
        collected = io.StringIO()
        stream = _Stream(self.output) if self.output and command else collected
        try:
            with _answering(answers, stream):
                if command and command[0] == "flask":
                    stream.write(self.flask(command[1:]))
                elif command and command[0] == "pytest":
                    stream.write(self.pytest(command[1:]))
                elif command and command[0] == "python":
                    self.python(command[1:], stream)
                else:
                    stream.write(self._python_source(source))
        except _Question as question:
            return {"output": collected.getvalue(), "prompt": question.prompt,
                    "secret": question.secret}  # fmt: skip
        return {"output": collected.getvalue()}

    def _python_source(self, source: str) -> str:
        output = io.StringIO()
        namespace = self._console_namespace
        namespace.setdefault("__name__", "__console__")
        namespace["app"] = self.site.app
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            try:
                try:
                    code = compile(source, "<console>", "single")
                except SyntaxError:
                    code = compile(source, "<console>", "exec")
                with self._app_context():
                    exec(code, namespace)
            except Exception:
                traceback.print_exc()
        return output.getvalue()

    def python(self, args: list[str], stream: TextIO) -> None:
        """``python ARGS`` as at a terminal in the site's folder: a script (``manage.py
        migrate``), ``-m module`` or ``-c code``, with ``sys.argv`` and ``sys.path[0]`` as they
        would be; what it prints goes to ``stream``. ``manage.py runserver`` and an
        interactive ``shell`` are what the server tab and its console are already."""
        if not args:
            stream.write("Python runs in this console already: type Python here.\n")
            return
        run: Callable[[], Any]
        if args[0] in ("-c", "-m") and len(args) > 1:
            argv, first_path = [args[0] if args[0] == "-c" else args[1], *args[2:]], str(self.root)
            if args[0] == "-c":
                run = lambda: exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: E731
            else:
                run = lambda: runpy.run_module(args[1], run_name="__main__", alter_sys=True)  # noqa: E731
        else:
            script = self._path(args[0])
            if not script.is_file():
                stream.write(f"python: can't open file {args[0]!r}: no such file in the site\n")
                return
            if script.name == "manage.py" and (served := _served_already(args[1:])):
                stream.write(served)
                return
            argv, first_path = [str(script), *args[1:]], str(script.parent)
            run = lambda: runpy.run_path(str(script), run_name="__main__")  # noqa: E731
        saved = sys.argv, os.getcwd(), list(sys.path)
        sys.argv = argv
        sys.path.insert(0, first_path)
        os.chdir(self.root)
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                try:
                    run()
                except SystemExit as exit:
                    if isinstance(exit.code, str):
                        print(exit.code)
                    elif exit.code:
                        print(f"(exit status {exit.code})")
                except Exception:
                    traceback.print_exc()
        finally:
            sys.argv = saved[0]
            os.chdir(saved[1])
            sys.path[:] = saved[2]

    def flask(self, args: list[str]) -> str:
        """Run ``flask ARGS`` against the site's app; returns what it printed."""
        app = self.site.app
        failure = self.site.load_failure
        if failure is not None:
            return f"The site's code failed to load, so its flask commands cannot run: {failure}\n"
        if app is None or not hasattr(app, "cli"):
            why = self.site.no_app_reason or (
                f"It serves {self.site.app_module}, which is not a Flask app."
                if self.site.app_module
                else "Its code has not loaded yet."
            )
            return f"This site has no Flask app, so it has no flask commands. {why}\n"
        from flask.cli import FlaskGroup

        group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            try:
                group.main(args=args, prog_name="flask", standalone_mode=False)
            except SystemExit:
                pass
            except Exception as error:  # click's usage errors, and the command's own failures
                show = getattr(error, "show", None)
                if callable(show):
                    show(file=output)
                else:
                    traceback.print_exc()
        return output.getvalue()

    def runs_apart(self, source: str) -> bool:
        """Whether the console line ``source`` runs in a Python of its own, started for it and
        ended after (the server tab's SiteHost.console): a test run (``pytest``, ``python
        manage.py test``), a process of its own at a terminal. Its tests then import the site's
        code afresh (a conftest may set the environment first), nothing they change reaches the
        Python that serves, and that one goes on serving visitors meanwhile."""
        command = console_command(source) or []
        return command[:1] == ["pytest"] or command[:3] == ["python", "manage.py", "test"]

    def tools_needed(self, source: str) -> list[str]:
        """The tools of the runtime bundle (signaling.bundle.TOOLS) that running ``source`` in
        the console needs and this Python does not have yet: the server tab installs them."""
        command = console_command(source)
        if command and command[0] == "pytest" and importlib.util.find_spec("pytest") is None:
            return ["pytest"]
        return []

    def pytest(self, args: list[str]) -> str:
        """Run the site's tests as its author runs them at home, from the site's root (the
        server tab runs this in a Python of its own: see :meth:`runs_apart`).

        The output streams to ``output`` as pytest writes it (else it is returned). The run
        leaves the site as it found it: its files (a test's writes are undone, and pytest
        writes no cache or bytecode there), ``sys.path``, ``sys.modules``, the environment and
        the working folder. Temporary files (``tmp_path``) go to a folder of their own.
        """
        try:
            import pytest
        except ImportError:
            return "pytest is not installed in this server tab's Python.\n"
        collected = io.StringIO()
        stream = _Stream(self.output) if self.output else collected
        with (
            tempfile.TemporaryDirectory(prefix="pytest-") as temporary,
            _files_kept(self.root),
            _interpreter_kept(self.site),
            self.site.instance_folders_in_site(),
            contextlib.redirect_stdout(stream),
            contextlib.redirect_stderr(stream),
        ):
            os.chdir(self.root)
            sys.dont_write_bytecode = True
            options = [*PYTEST_OPTIONS, f"--basetemp={temporary}/tmp"]
            try:
                pytest.main([*options, *args], plugins=[_ShimsFirst()])
            except Exception:  # pytest reports the tests' errors itself: this is its own
                traceback.print_exc()
        return collected.getvalue()

    @contextlib.contextmanager
    def _app_context(self) -> Iterator[None]:
        app_context = getattr(self.site.app, "app_context", None)
        if app_context is None:
            yield
        else:
            with app_context():
                yield


class _ShimsFirst:
    """A pytest plugin: the runtime's shims apply to modules pytest imported itself."""

    def pytest_runtest_setup(self) -> None:
        shims.apply_changes()


def console_command(source: str) -> list[str] | None:
    """``["flask", ARGS...]``, ``["pytest", ARGS...]`` or ``["python", ARGS...]`` for a command
    line typed into the console (``python -m pytest`` is pytest), else ``None``: the line is
    Python."""
    try:
        words = shlex.split(source.strip())
    except ValueError:
        return None
    if words[:3] in (["python", "-m", "pytest"], ["python3", "-m", "pytest"]):
        words = words[2:]
    if words[:1] == ["python3"]:
        words = ["python", *words[1:]]
    if words[:1] not in (["flask"], ["pytest"], ["python"]):
        return None
    # Python that starts with the same name: an assignment or a comparison (`flask = 3`).
    return None if len(words) > 1 and re.match(r"^[-+*/%&|^<>!:]*=", words[1]) else words


def _served_already(args: list[str]) -> str | None:
    """What to say instead of running ``manage.py runserver`` or an interactive ``shell``."""
    if args[:1] == ["runserver"]:
        return (
            "This server tab is the server already: the site is served at its address, and "
            "saving a file reloads it, as runserver would.\n"
        )
    if args[:1] == ["shell"] and not {"-c", "--command"} & set(args):
        return (
            "This console is Django's shell already: type Python here, your models import as "
            'they would in `manage.py shell` (or run `python manage.py shell -c "..."`).\n'
        )
    return None


class _Question(BaseException):
    """A console command asked a question the owner has not answered yet (a BaseException,
    so that a command's own ``except Exception`` lets it through)."""

    def __init__(self, prompt: str, secret: bool) -> None:
        super().__init__(prompt)
        self.prompt, self.secret = prompt, secret


class _Terminal(io.TextIOBase):
    """A console command's stdin: a terminal (Django asks only on one) whose lines are the
    owner's answers."""

    def __init__(self, ask: Callable[[str, bool], str]) -> None:
        self._ask = ask

    def readable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self._ask("", False) + "\n"


@contextlib.contextmanager
def _answering(answers: Sequence[str], stream: TextIO) -> Iterator[None]:
    """``input()``, ``getpass`` and stdin answered from ``answers``, echoed as a terminal
    shows them (a secret is not); past the last one, :class:`_Question` ends the command."""
    left = list(answers)

    def ask(prompt: str, secret: bool) -> str:
        stream.write(str(prompt))
        if not left:
            raise _Question(str(prompt), secret)
        answer = left.pop(0)
        stream.write("\n" if secret else f"{answer}\n")
        return answer

    saved = builtins.input, getpass.getpass, sys.stdin
    builtins.input = lambda prompt="": ask(prompt, False)
    getpass.getpass = lambda prompt="Password: ", stream=None: ask(prompt, True)
    sys.stdin = _Terminal(ask)
    try:
        yield
    finally:
        builtins.input, getpass.getpass, sys.stdin = saved


class _Stream(io.TextIOBase):
    """A text stream that hands each write on at once (to the server tab's console)."""

    def __init__(self, send: Callable[[str], None]) -> None:
        self._send = send

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._send(text)
        return len(text)


@contextlib.contextmanager
def _files_kept(root: Path) -> Iterator[None]:
    """Whatever the block does to the files under ``root``, they are as before afterwards."""
    before: dict[Path, bytes] = {}
    folders: set[Path] = set()
    for path in root.rglob("*"):
        if path.is_file():
            before[path] = path.read_bytes()
        elif path.is_dir():
            folders.add(path)
    try:
        yield
    finally:
        for path in sorted(root.rglob("*"), reverse=True):  # a folder's files before it
            if path.is_dir() and not path.is_symlink():
                if path not in folders and not any(path.iterdir()):
                    path.rmdir()
            elif path not in before:
                path.unlink()
        for path, content in before.items():
            if not path.is_file() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)


@contextlib.contextmanager
def _interpreter_kept(site: Site) -> Iterator[None]:
    """``sys.path``, the environment, the working folder and the bytecode setting as before the
    block, and none of the modules it imported from the site (the tests, their conftest)."""
    path, environ, cwd = list(sys.path), dict(os.environ), os.getcwd()
    modules, write_bytecode = set(sys.modules), sys.dont_write_bytecode
    try:
        yield
    finally:
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
        sys.dont_write_bytecode = write_bytecode
        for name in set(sys.modules) - modules:
            file = getattr(sys.modules[name], "__file__", None)
            if file and site.is_site_file(file):
                del sys.modules[name]


def project_files(names: list[str], filename: str = "") -> dict[str, str]:
    """``{path in the site: name in the archive}`` for the files of a zipped project.

    Folders that wrap everything (GitHub's "Download ZIP", a zipped project folder, or both)
    are taken off, one after another, down to the project's root. A package folder is never
    taken off: a zip of just ``flaskr/`` becomes a site holding the package ``flaskr``, as the
    project's root holds it. A package's files zipped without their folder (an ``__init__.py``
    at the top) go into a folder named after the archive (``flaskr.zip``: ``flaskr/``).
    """
    root = ""
    while (inner := _common_folder([name[len(root) :] for name in names])) and (
        f"{root}{inner}__init__.py" not in names
    ):
        root += inner
    files = {name[len(root) :]: name for name in names}
    if "__init__.py" in files:
        package = re.match(r"[A-Za-z_][A-Za-z0-9_]*", PurePosixPath(filename).stem)
        if package is None:
            raise WorkbenchError(
                "The zip archive holds a Python package's files without their folder (an "
                "__init__.py at the top), and its name does not say which package they are: "
                "zip the package's folder, or name the archive after the package (flaskr.zip)."
            )
        files = {f"{package.group()}/{path}": name for path, name in files.items()}
    return files


def _common_folder(names: list[str]) -> str:
    """``"project/"`` when every name is inside that one folder, else ``""``."""
    first = names[0].split("/", 1)
    if len(first) < 2:
        return ""
    prefix = first[0] + "/"
    return prefix if all(name.startswith(prefix) for name in names) else ""


def _makes_a_site(path: str) -> bool:
    """Whether ``path`` makes an archive a site: Python code, Flask's settings or a page."""
    pure = PurePosixPath(path)
    return pure.suffix in (".py", ".html", ".htm") or pure.name == ".flaskenv"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _plain_row(row: tuple) -> list[Any]:
    return [value.hex() if isinstance(value, bytes) else value for value in row]
