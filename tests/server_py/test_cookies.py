"""HttpOnly cookies kept by the server tab, per visitor (server_py.cookies)."""

from __future__ import annotations

from pathlib import Path

from server_py.cookies import VisitorCookies, is_http_only, is_identity

ALICE = "sha-256:" + "a" * 64
BOB = "sha-256:" + "b" * 64
SITE = "http://demo.localhost:8000"


def test_identities() -> None:
    assert is_identity(ALICE)
    assert not is_identity("sha-256:xyz") and not is_identity(None)
    assert is_http_only("session=x; Path=/; HttpOnly")
    assert is_http_only("session=x; httponly; Secure")
    assert not is_http_only("theme=dark; Path=/")
    assert not is_http_only("note=HttpOnly; Path=/")  # a value is not an attribute


def test_httponly_cookies_stay_with_the_server_per_visitor(tmp_path: Path) -> None:
    cookies = VisitorCookies(tmp_path)
    visible = cookies.keep(
        ALICE, f"{SITE}/login", ["session=s3cret; Path=/; HttpOnly", "theme=dark; Path=/"]
    )
    assert visible == ["theme=dark; Path=/"]
    assert (
        cookies.cookie_header(ALICE, f"{SITE}/whoami", "theme=dark") == "session=s3cret; theme=dark"
    )
    assert cookies.cookie_header(BOB, f"{SITE}/whoami", "theme=dark") == "theme=dark"
    assert cookies.cookie_header(BOB, f"{SITE}/whoami", None) is None


def test_a_scripts_cookie_cannot_stand_in_for_an_httponly_one(tmp_path: Path) -> None:
    cookies = VisitorCookies(tmp_path)
    cookies.keep(ALICE, f"{SITE}/", ["session=real; Path=/; HttpOnly"])
    assert cookies.cookie_header(ALICE, f"{SITE}/", "session=forged; x=1") == "session=real; x=1"


def test_paths_expiry_deletion_and_secure(tmp_path: Path) -> None:
    cookies = VisitorCookies(tmp_path)
    cookies.keep(
        ALICE,
        f"{SITE}/admin/login",
        [
            "admin=1; Path=/admin; HttpOnly",
            "gone=1; Path=/; Max-Age=0; HttpOnly",
            "secure=1; Path=/; Secure; HttpOnly",
        ],
    )
    assert cookies.cookie_header(ALICE, f"{SITE}/", None) == "secure=1"  # Secure: *.localhost
    assert cookies.cookie_header(ALICE, f"{SITE}/admin/x", None) == "admin=1; secure=1"
    cookies.keep(ALICE, f"{SITE}/admin/logout", ["admin=; Path=/admin; Max-Age=0; HttpOnly"])
    assert cookies.cookie_header(ALICE, f"{SITE}/admin/x", None) == "secure=1"
    plain = VisitorCookies(tmp_path / "elsewhere")
    plain.keep(ALICE, "http://demo.example.org/", ["secure=1; Path=/; Secure; HttpOnly"])
    assert plain.cookie_header(ALICE, "http://demo.example.org/", None) is None
    assert plain.cookie_header(ALICE, "https://demo.example.org/", None) == "secure=1"


def test_jars_outlive_the_server_tab_and_empty_ones_leave_no_file(tmp_path: Path) -> None:
    VisitorCookies(tmp_path).keep(ALICE, f"{SITE}/", ["session=kept; Path=/; HttpOnly"])
    again = VisitorCookies(tmp_path)
    assert again.cookie_header(ALICE, f"{SITE}/", None) == "session=kept"
    again.keep(ALICE, f"{SITE}/", ["session=; Path=/; Max-Age=0; HttpOnly"])
    assert list(tmp_path.iterdir()) == []


def test_a_cookie_set_again_without_httponly_becomes_the_visitors(tmp_path: Path) -> None:
    cookies = VisitorCookies(tmp_path)
    cookies.keep(ALICE, f"{SITE}/", ["pref=a; Path=/; HttpOnly"])
    assert cookies.keep(ALICE, f"{SITE}/", ["pref=b; Path=/"]) == ["pref=b; Path=/"]
    assert cookies.cookie_header(ALICE, f"{SITE}/", "pref=b") == "pref=b"


def test_a_flask_session_through_the_http_connection(tmp_path: Path) -> None:
    """Flask's session cookie (HttpOnly) never leaves the server; the same visitor is logged in
    on its next connection, another visitor is not."""
    import io

    from flask import Flask, session

    from server_py.http import HTTPConnection

    app = Flask(__name__)
    app.secret_key = "test"

    @app.route("/login")
    def login():
        session["user"] = "ada"
        return "ok"

    @app.route("/whoami")
    def whoami():
        return str(session.get("user"))

    cookies = VisitorCookies(tmp_path)

    def ask(identity: str, path: str, cookie: str = "") -> bytes:
        conn = HTTPConnection(app, errors=io.StringIO(), visitor=(cookies, identity))
        extra = f"Cookie: {cookie}\r\n" if cookie else ""
        conn.receive_data(f"GET {path} HTTP/1.1\r\nHost: demo.localhost\r\n{extra}\r\n".encode())
        out = b""
        while chunk := conn.data_to_send():
            out += chunk
        return out

    answer = ask(ALICE, "/login")
    assert b"200 OK" in answer and b"set-cookie" not in answer.lower()
    assert ask(ALICE, "/whoami").endswith(b"ada")
    assert ask(BOB, "/whoami").endswith(b"None")
    # Another browser that somehow learnt the visitor's other cookies is no better off.
    assert ask(BOB, "/whoami", "theme=dark").endswith(b"None")
