"""The runtime bundle's build steps that need no Node.js (signaling.bundle)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from signaling.bundle import precompress


def test_precompress_keeps_a_gzipped_copy_where_it_gains(tmp_path: Path) -> None:
    text = tmp_path / "module.js"
    text.write_bytes(b"export const answer = 42;\n" * 400)
    noise = tmp_path / "nested" / "noise.bin"
    noise.parent.mkdir()
    noise.write_bytes(os.urandom(8192))  # gzip cannot make it smaller
    stale = tmp_path / "nested" / "noise.bin.gz"  # left by a build when it still gained
    stale.write_bytes(gzip.compress(b"what it was"))
    archive = tmp_path / "sdist.tar.gz"  # a file that is gzip itself
    archive.write_bytes(gzip.compress(b"a package" * 100))

    precompress(tmp_path)

    packed = (tmp_path / "module.js.gz").read_bytes()
    assert gzip.decompress(packed) == text.read_bytes() and len(packed) < len(text.read_bytes())
    assert not stale.exists()
    assert not (tmp_path / "sdist.tar.gz.gz").exists()
    assert gzip.decompress(archive.read_bytes()) == b"a package" * 100
    # The same bytes at every build: no time stamp inside.
    precompress(tmp_path)
    assert (tmp_path / "module.js.gz").read_bytes() == packed
