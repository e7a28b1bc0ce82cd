"""Fixtures for bank tests: every hash here is of the tests' own bytes or random."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest


def digests(data: bytes) -> dict[str, str]:
    return {
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - MD5 is a list format, not security
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.fixture
def sample_files() -> list[tuple[str, bytes]]:
    """Benign synthetic 'files': names and contents."""
    return [(f"file-{i}.bin", f"synthetic content {i}".encode() * (i + 1)) for i in range(5)]


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip_bits(pdq_hex: str, count: int, rng: random.Random) -> str:
    value = int(pdq_hex, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
