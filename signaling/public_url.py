"""The one public URL every address the product shows or builds derives from.

The service's own pages live at the public URL (``https://example.org/``); the site named NAME
at the same scheme and port on a subdomain (``https://NAME.example.org/``), so that each site
is an origin of its own. On one machine the default is ``http://localhost:PORT``: Chromium and
Firefox resolve every ``*.localhost`` name to the loopback address by themselves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class PublicURL:
    scheme: str
    host: str  # the base domain: site NAME lives at NAME.<host>
    port: int | None  # None when it is the scheme's default

    @classmethod
    def parse(cls, text: str) -> PublicURL:
        """Parse ``--public-url``; a URL that cannot carry site subdomains is refused."""
        parts = urlsplit(text.strip())
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(f"{text!r}: the public URL must start with http:// or https://")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise ValueError(f"{text!r}: the public URL needs a host name")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            raise ValueError(
                f"{text!r}: sites live on subdomains (NAME.{host}), so the public URL needs a "
                "domain name, not an IP address"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{text!r}: the public URL cannot have a path: sites own every path")
        if parts.username or parts.password:
            raise ValueError(f"{text!r}: the public URL cannot carry a user name or password")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{text!r}: the port is not a number from 1 to 65535") from None
        if port == _DEFAULT_PORTS[parts.scheme]:
            port = None
        return cls(parts.scheme, host.lower(), port)

    @classmethod
    def local(cls, port: int) -> PublicURL:
        """The default on one machine: ``http://localhost:PORT``."""
        return cls("http", "localhost", None if port == 80 else port)

    @property
    def is_secure(self) -> bool:
        return self.scheme == "https"

    @property
    def is_this_machine(self) -> bool:
        """Whether only this machine reaches it: localhost and its subdomains, which browsers
        resolve to the loopback address themselves (RFC 6761)."""
        return self.host == "localhost" or self.host.endswith(".localhost")

    @property
    def netloc(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def site_origin(self, name: str) -> str:
        """The origin of the site ``name`` (``{name}`` itself gives a template)."""
        netloc = f"{name}.{self.host}" + ("" if self.port is None else f":{self.port}")
        return f"{self.scheme}://{netloc}"

    def __str__(self) -> str:
        return f"{self.origin}/"
