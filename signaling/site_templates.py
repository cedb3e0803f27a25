"""The starter sites offered on the home page, each a folder of ``site_templates/``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "site_templates"

# id -> title shown in the home page's "Template" control, in the order shown.
TEMPLATES = {"empty": "Empty"}


def template_zip(template_id: str) -> bytes:
    """The template's files as a zip archive; KeyError for an unknown template."""
    if template_id not in TEMPLATES:
        raise KeyError(template_id)
    folder = TEMPLATES_DIR / template_id
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
