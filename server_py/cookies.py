"""HttpOnly cookies kept by the server tab, for each visitor, where no page script can read them.

A browser keeps an HttpOnly cookie out of reach of the page's scripts. A PeerServer visitor's
browser cannot: every storage of the site's origin is readable by the site's own scripts, and
a service worker cannot set cookies. So the server tab keeps them itself, one jar per visitor,
and the visitor never receives them:

* a response's ``Set-Cookie`` headers with the HttpOnly attribute are taken out and stored in
  that visitor's jar (Python's own RFC 6265 handling, :mod:`http.cookiejar`: paths, expiry,
  Secure, deletion);
* each request from that visitor gets the jar's cookies in its ``Cookie`` header, in front of
  what the visitor sent (a script's cookie of the same name cannot stand in for them).

A visitor is known by its DTLS certificate (an ``RTCCertificate`` kept in its browser, private
key not extractable), which the peer connection proves: a script can still make requests from
its own page, as with a real HttpOnly cookie, but cannot read the value or use it from another
browser. Jars are files in a folder the worker keeps in the browser's storage, apart from the
site's own files (they are never exported with the site).
"""

from __future__ import annotations

import contextlib
import email.message
import hashlib
import re
import urllib.request
from http.cookiejar import CookieJar, DefaultCookiePolicy, LWPCookieJar
from pathlib import Path

_IDENTITY = re.compile(r"^sha-256:[0-9a-f]{64}$")
_MAX_JARS_IN_MEMORY = 1024


def is_identity(value: object) -> bool:
    """``sha-256:<hex>``: a DTLS certificate fingerprint, as the server tab hands it over."""
    return isinstance(value, str) and _IDENTITY.match(value) is not None


def is_http_only(set_cookie: str) -> bool:
    attributes = set_cookie.split(";")[1:]
    return any(attribute.strip().lower() == "httponly" for attribute in attributes)


def _cookie_name(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[0].strip()


class _Response:
    """What :meth:`CookieJar.extract_cookies` reads of a response: its headers."""

    def __init__(self, set_cookies: list[str]) -> None:
        self._headers = email.message.Message()
        for value in set_cookies:
            self._headers["Set-Cookie"] = value

    def info(self) -> email.message.Message:
        return self._headers


def _request(url: str) -> urllib.request.Request:
    # *.localhost is a secure context in browsers: Secure cookies travel over http:// there.
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split(":")[0]
    if scheme == "http" and (host == "localhost" or host.endswith(".localhost")):
        url = f"https://{rest}"
    return urllib.request.Request(url)


class VisitorCookies:
    """The jars of every visitor of one site, kept as files in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._jars: dict[str, LWPCookieJar] = {}

    def cookie_header(self, identity: str, url: str, sent: str | None) -> str | None:
        """The ``Cookie`` header for a request to ``url`` from ``identity``, which sent ``sent``."""
        jar = self._jar(identity)
        request = _request(url)
        jar.add_cookie_header(request)
        kept = request.get_header("Cookie")
        if not kept:
            return sent
        names = {pair.split("=", 1)[0].strip() for pair in kept.split(";")}
        theirs = [
            pair.strip()
            for pair in (sent or "").split(";")
            if pair.strip() and pair.split("=", 1)[0].strip() not in names
        ]
        return "; ".join([kept, *theirs])

    def keep(self, identity: str, url: str, set_cookies: list[str]) -> list[str]:
        """Store the HttpOnly ones of ``set_cookies`` for ``identity``; return the others, the
        ones the visitor's browser may see."""
        http_only = [value for value in set_cookies if is_http_only(value)]
        others = [value for value in set_cookies if not is_http_only(value)]
        jar = self._jar(identity)
        before = self._text(jar)
        if http_only:
            jar.extract_cookies(_Response(http_only), _request(url))  # type: ignore[arg-type]
        for value in others:  # a cookie set again without HttpOnly is the visitor's from now on
            for cookie in [c for c in jar if c.name == _cookie_name(value)]:
                jar.clear(cookie.domain, cookie.path, cookie.name)
        if self._text(jar) != before:
            self._save(identity, jar)
        return others

    def _jar(self, identity: str) -> LWPCookieJar:
        jar = self._jars.get(identity)
        if jar is None:
            if len(self._jars) >= _MAX_JARS_IN_MEMORY:
                self._jars.clear()  # they are all on disk: read again when needed
            jar = LWPCookieJar(str(self._path(identity)), policy=DefaultCookiePolicy())
            with contextlib.suppress(OSError):  # none yet (LoadError is an OSError too)
                jar.load(ignore_discard=True)
            self._jars[identity] = jar
        return jar

    def _save(self, identity: str, jar: LWPCookieJar) -> None:
        path = self._path(identity)
        jar.clear_expired_cookies()
        if len(jar) == 0:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        jar.save(ignore_discard=True)

    def _path(self, identity: str) -> Path:
        # The identity is checked by the caller; a digest of it makes a plain file name anyway.
        return self.folder / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.lwp"

    @staticmethod
    def _text(jar: CookieJar) -> str:
        return "\n".join(
            f"{c.domain} {c.path} {c.name} {c.value} {c.expires}"
            for c in sorted(jar, key=lambda c: (c.domain, c.path, c.name))
        )
