"""The Python side of a PeerServer server tab.

This package runs inside Pyodide, in the server tab's Web Worker, and under CPython for
the unit tests. Nothing in it does I/O of its own: bytes that arrived on a data channel
are handed to :class:`server_py.http.HTTPConnection`, which answers them by calling the
site's WSGI app and hands back bytes to send. The worker's JavaScript moves the bytes.
"""

from server_py.http import HTTPConnection
from server_py.site import Site, SiteLoadError

__all__ = ["HTTPConnection", "Site", "SiteLoadError"]
