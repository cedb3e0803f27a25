"""What the server tab's workbench does to a site: its files, zip export and import, and its
sqlite databases (its Console is :mod:`server_py.console`).

Paths are ``/``-separated and relative to the site folder; anything that would leave the
folder is refused with :class:`WorkbenchError`, whose message is meant for the site's owner.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from server_py.site import Site

DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp")
MAX_ROWS = 500


class WorkbenchError(Exception):
    """Something the owner asked for cannot be done; the message says why."""


def site_path(root: Path, path: str) -> Path:
    """The file ``path`` (``/``-separated, relative) of the site at ``root``; a path that would
    leave the folder is refused."""
    pure = PurePosixPath(path.strip())
    if not pure.parts or pure.is_absolute() or ".." in pure.parts or "" in pure.parts:
        raise WorkbenchError(f'"{path}" is not a valid file name inside the site.')
    return root.joinpath(*pure.parts)


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
    """The owner's tools for one :class:`~server_py.site.Site`'s files and databases."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.root = site.root

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
        return site_path(self.root, path)

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
