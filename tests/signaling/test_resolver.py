"""signaling.packages.resolver on its own, with no index: a requirements.txt read into what is
resolved and what is refused (with the owner's reason), and requirements on what the server
tab has already settled before anything is looked up."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from signaling.packages.resolver import Resolution, parse_requirements, settle_fixed
from signaling.packages.target import Target

TARGET = Target(
    python="3.14",
    python_full="3.14.2",
    abi_version="2026_0",
    platforms=("pyemscripten_2026_0_wasm32",),
    built_in={canonicalize_name("Flask"): "3.1.3", canonicalize_name("Jinja2"): "3.1.6"},
)


def read(text: str) -> tuple[list[str], dict[str, str]]:
    """The requirements kept (as identifiers), and the refusals by line."""
    result = Resolution()
    roots = parse_requirements(text, TARGET, result)
    refused = {problem["requirement"]: problem["reason"] for problem in result.problems}
    return [need.identifier for _, need in roots.lines], refused


def test_a_requirements_txt_is_read_as_pip_would_for_this_python() -> None:
    kept, refused = read(
        "# the site's packages\n"
        "Flask-Login>=0.6   # a comment after it\n"
        "requests[socks,security]\n"
        "\n"
        "pywin32; sys_platform == 'win32'\n"
        "tomli; python_version < '3.11'\n"
        "exceptiongroup; sys_platform == 'emscripten'\n"
        "-r other.txt\n"
        "--index-url https://example.com/simple\n"
        "pkg @ https://example.com/pkg.whl\n"
        "not a requirement!\n"
    )
    assert kept == ["flask-login", "requests[security,socks]", "exceptiongroup"]
    assert refused["-r other.txt"].startswith("pip options are not supported here")
    assert refused["--index-url https://example.com/simple"].startswith("pip options")
    assert refused["pkg @ https://example.com/pkg.whl"] == (
        "only packages from the package index can be installed, not from a URL or a path"
    )
    assert refused["not a requirement!"].startswith("not a requirement: ")
    assert len(refused) == 4  # the other platforms' and Pythons' lines are left out, silently


@given(st.text())
def test_any_text_is_read_without_an_exception(text: str) -> None:
    kept, refused = read(text)
    assert all(isinstance(identifier, str) for identifier in kept)
    assert all(isinstance(reason, str) and reason for reason in refused.values())


def test_what_the_tab_has_already_is_settled_before_the_index_is_asked() -> None:
    result = Resolution()
    roots = parse_requirements(
        "flask>=3\njinja2<3\nitsdangerous==2.2.0\nclick>=8\nhumanize\n", TARGET, result
    )
    finder = SimpleNamespace(
        target=TARGET,
        fixed={"flask": "3.1.3", "jinja2": "3.1.6", "itsdangerous": "2.1.0", "click": "8.1.8"},
    )
    left = settle_fixed(roots, finder, result)  # type: ignore[arg-type]
    assert [need.identifier for _, need in left.lines] == ["humanize"]
    assert result.built_in == ["flask 3.1.3"]
    reasons = {problem["requirement"]: problem["reason"] for problem in result.problems}
    assert reasons == {
        "jinja2<3": "the server tab runs jinja2 3.1.6, which is built in and does not match <3",
        "itsdangerous==2.2.0": "itsdangerous 2.1.0 is installed, which does not match it",
    }
