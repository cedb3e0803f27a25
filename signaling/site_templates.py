"""The starter sites offered on the home page: folders of ``site_templates/``, plus any
folders of extra template directories given to ``peerserver serve --extra-templates``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from signaling.locations import ASSETS

TEMPLATES_DIR = ASSETS / "site_templates"

# id -> title of the built-in templates, in the order the home page shows them.
BUILT_IN = {
    "empty": "Empty",
    "login": "Login Demo",
    "grocery": "Grocery List",
    "garage-sale": "Garage Sale",
}


class Templates:
    """The templates on offer: id -> (title, folder)."""

    def __init__(self, extra_dirs: list[Path] = ()) -> None:
        self._folders = {key: (title, TEMPLATES_DIR / key) for key, title in BUILT_IN.items()}
        for directory in extra_dirs:
            for folder in sorted(path for path in Path(directory).iterdir() if path.is_dir()):
                self._folders.setdefault(folder.name, (folder.name, folder))

    def listing(self) -> list[dict[str, str]]:
        return [{"id": key, "title": title} for key, (title, _) in self._folders.items()]

    def zip(self, template_id: str) -> bytes:
        """The template's files as a zip archive; KeyError for an unknown template."""
        _, folder = self._folders[template_id]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(folder).as_posix())
        return buffer.getvalue()
