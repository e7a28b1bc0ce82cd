"""Fixtures of the hash-bank tests: an isolated data directory, API clients, generated images.

Every hash list here is made by the test from its own generated files or random values.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image, ImageDraw

from muhafiz.accounts.models import ApiClient
from muhafiz.accounts.roles import JurisdictionLevel
from muhafiz.hashbank.index import forget_loaded_index


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    forget_loaded_index()
    yield
    forget_loaded_index()


@dataclass
class TokenClient:
    client: Client
    api_client: ApiClient
    token: str

    def get(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.client.get(path, data, HTTP_AUTHORIZATION=f"Bearer {self.token}", **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, data, HTTP_AUTHORIZATION=f"Bearer {self.token}", **kwargs)


@pytest.fixture
def token_client(db: None) -> Callable[..., TokenClient]:
    """A national API client whose profile grants at least `scopes` (the smallest such)."""

    def make(*scopes: str, name: str = "hma-client") -> TokenClient:
        from muhafiz.core.permissions import CLIENT_PROFILES
        from muhafiz.testing import make_api_client

        wanted = set(scopes)
        fitting = [p for p in CLIENT_PROFILES.values() if wanted <= {q.value for q in p.perms}]
        profile = min(fitting, key=lambda p: len(p.perms))
        client, token = make_api_client(profile.code, name=name, level=JurisdictionLevel.NATIONAL)
        return TokenClient(Client(), client, token)

    return make


def picture(seed: int = 1, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A benign generated picture: a gradient with random shapes."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        shade = int(255 * y / size[1])
        draw.line([(0, y), (size[0], y)], fill=(shade, 90, 255 - shade))
    for _ in range(25):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(20, 200), y0 + rng.randrange(20, 200)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def modified(image: Image.Image) -> Image.Image:
    """A slightly changed copy: shrunk, re-encoded as JPEG, with a small mark drawn on it."""
    copy = image.resize((image.width * 9 // 10, image.height * 9 // 10))
    ImageDraw.Draw(copy).rectangle([5, 5, 25, 25], fill=(255, 255, 255))
    return Image.open(io.BytesIO(encode(copy, "JPEG", quality=85)))


def random_hex(rng: random.Random, chars: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(chars))


def digests(data: bytes) -> dict[str, str]:
    return {
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - file identity, not security
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.fixture
def sample_files(tmp_path: Path) -> list[Path]:
    """Benign files whose hashes make up the test lists."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    paths = []
    for seed in range(1, 6):
        path = folder / f"picture-{seed}.png"
        path.write_bytes(encode(picture(seed)))
        paths.append(path)
    return paths
