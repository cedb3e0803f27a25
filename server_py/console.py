"""The server tab's Console: a line typed there runs inside the site's runtime, as Python with
the app's context, or as a command at a terminal in the site's folder: ``flask ARGS`` (the
app's command line), ``pytest ARGS``, ``python manage.py ARGS`` and ``python SCRIPT``, ``-m
MODULE`` or ``-c CODE``. A command that asks a question (``input()``, ``getpass``) is answered
by the owner, line by line.
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
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from server_py import shims
from server_py.interpreter import interpreter_kept
from server_py.site import Site
from server_py.workbench import site_path

# Always given to pytest in the console, before the owner's own arguments (which may override
# them): no .pytest_cache in the site, output captured through sys (WebAssembly has no real
# file descriptors to redirect), and no faulthandler, which wants one.
PYTEST_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:faulthandler", "--capture=sys", "--color=no")


class Console:
    """The Console of one :class:`~server_py.site.Site`.

    ``output``, if given, gets the output of a long command (``pytest``) as it is produced,
    instead of all of it at the end.
    """

    def __init__(self, site: Site, output: Callable[[str], None] | None = None) -> None:
        self.site = site
        self.root = site.root
        self.output = output
        self._namespace: dict[str, Any] = {}

    def run(self, source: str) -> str:
        """What a console line printed (see :meth:`line`; a question goes unanswered)."""
        return self.line(source)["output"]

    def line(self, source: str, answers: Sequence[str] = ()) -> dict[str, Any]:
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
        namespace = self._namespace
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
            script = site_path(self.root, args[0])
            if not script.is_file():
                stream.write(f"python: can't open file {args[0]!r}: no such file in the site\n")
                return
            if script.name == "manage.py" and (served := _served_already(args[1:])):
                stream.write(served)
                return
            argv, first_path = [str(script), *args[1:]], str(script.parent)
            run = lambda: runpy.run_path(str(script), run_name="__main__")  # noqa: E731
        # As a process of its own would, but the modules it imported stay: they are the
        # serving Python's too (the site's, the packages').
        with interpreter_kept(forget=lambda name, module: False):
            sys.argv = argv
            sys.path.insert(0, first_path)
            os.chdir(self.root)
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
            # None of the modules it imported from the site (the tests, their conftest) stay.
            interpreter_kept(
                forget=lambda name, module: self.site.is_site_file(
                    getattr(module, "__file__", None) or ""
                )
            ),
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
