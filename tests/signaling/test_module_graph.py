"""signaling.module_graph: the modules a page's entry imports, found from the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.module_graph import imported_modules, with_preloads


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_every_static_import_all_the_way_down(tmp_path: Path) -> None:
    web, lib = tmp_path / "web", tmp_path / "lib"
    write(web, {
        "main.js": 'import { a } from "/lib/a.js";\nimport "./side.js";\n'
                   "// import { x } from \"/lib/commented.js\" is a comment\n"
                   'const later = () => import("/lib/dynamic.js");\n',
        "side.js": 'export * from "../lib/b.js";\nimport map from "leaflet";\n',
    })  # fmt: skip
    write(lib, {
        "a.js": 'import {\n  one,\n  two,\n} from "./b.js";\nexport const a = "x";\n',
        "b.js": 'import { a } from "./a.js";\nexport { c } from "./c.js";\n'
                'export function f() { return Array.from("abc"); }\n',
        "c.js": 'import "/lib/missing.js";\nimport "/etc/passwd";\nimport "../../outside.js";\n',
        "commented.js": "", "dynamic.js": "",
    })  # fmt: skip
    (tmp_path / "outside.js").write_text("")
    folders = {"/web/": web, "/lib/": lib}
    assert imported_modules("/web/main.js", folders) == [
        "/lib/a.js", "/web/side.js", "/lib/b.js", "/lib/c.js",
    ]  # fmt: skip


def test_preloads_go_before_the_entry_script(tmp_path: Path) -> None:
    write(tmp_path, {"main.js": 'import "./a.js";\n', "a.js": ""})
    page = '<head><script type="module" src="/m/main.js"></script></head>'
    assert with_preloads(page, "/m/main.js", {"/m/": tmp_path}) == (
        '<head><link rel="modulepreload" href="/m/a.js">\n  '
        '<script type="module" src="/m/main.js"></script></head>'
    )
    with pytest.raises(ValueError, match=r"does not load /m/other\.js"):
        with_preloads(page, "/m/other.js", {"/m/": tmp_path})
