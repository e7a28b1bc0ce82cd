"""The PDQ fidelity corpus: benign pictures that are hard for a reduced decode, generated in code.

Textures (fine stripes and checkerboards at several angles, pages of small text, fractal and
foliage-like noise, halftone dots) are drawn at full camera size, so the fine detail sits at the
pixel scale where a reduced decode loses it. Scenery and objects come from scikit-image's shipped
`data` files (scikit-image is a dev dependency; only its PNG/JPEG files are read, skimage itself
is not imported); its pictures of people are never used. Every
base picture is saved as a camera-like JPEG (quality 92, 4:2:0, EXIF) and as five variants:
half size, JPEG quality 30, +15 % brightness, a 5 % crop and a label overlay.

Never pictures of people: the scikit-image files are taken from an allow-list, not a deny-list.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CAMERA = (4000, 3000)  # 12 megapixels
VARIANTS = ("original", "half", "q30", "bright", "crop5", "label")

# scikit-image data files that show no person (scenery, objects, textures, an animal, text).
# Left out on purpose: astronaut, camera (a cameraman), lfw_subset and the face cascade (faces),
# retina and microaneurysms (a human eye), no_time_for_that_tiny.gif, and the cell and tissue
# micrographs (cell, ihc: not pictures a phone holds).
SCENERY = (
    "brick.png",
    "grass.png",
    "gravel.png",
    "coffee.png",
    "chelsea.png",
    "coins.png",
    "hubble_deep_field.jpg",
    "moon.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "page.png",
    "text.png",
    "color.png",
    "logo.png",
    "clock_motion.png",
)

_TEXT = (
    "the district court heard the matter on tuesday and adjourned it to the next date "
    "record of evidence produced by the prosecution with the list of witnesses and exhibits "
    "inventory of seized articles sealed in the presence of two witnesses"
)
_WORDS = _TEXT.split()


@dataclass(frozen=True)
class Picture:
    name: str  # base picture, e.g. "stripes-15"
    kind: str  # texture kind, e.g. "stripes", or "scenery"
    variant: str  # one of VARIANTS
    path: Path


# ---------------------------------------------------------------- base pictures


def _scene(rng: np.random.Generator, size: tuple[int, int], shapes: int = 24) -> np.ndarray:
    """A smooth scene of coloured shapes (float RGB 0..1): the large-scale structure."""
    small = Image.new("RGB", (max(8, size[0] // 16), max(8, size[1] // 16)), (128, 128, 128))
    draw = ImageDraw.Draw(small)
    w, h = small.size
    for _ in range(shapes):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1 = x0 + int(rng.integers(w // 8, w // 2))
        y1 = y0 + int(rng.integers(h // 8, h // 2))
        colour = tuple(int(v) for v in rng.integers(20, 236, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    big = small.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(2))
    return np.asarray(big, dtype=np.float32) / 255.0


def _coords(size: tuple[int, int], degrees: float) -> tuple[np.ndarray, np.ndarray]:
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(degrees)
    return x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)


def _textured(rng: np.random.Generator, texture: np.ndarray, contrast: float = 0.8) -> np.ndarray:
    """Fine texture (0..1) laid over a smooth scene: what fabric, walls and leaves look like."""
    scene = _scene(rng, (texture.shape[1], texture.shape[0]))
    t = (1.0 - contrast) + contrast * texture
    return np.clip(scene * t[..., None] * 1.15, 0, 1)


def stripes(size: tuple[int, int], seed: int, degrees: float, period: float) -> np.ndarray:
    u, _ = _coords(size, degrees)
    wave = np.sin(u * (2 * math.pi / period))
    texture = np.clip(0.5 + 1.5 * wave, 0, 1)  # nearly square waves, slightly soft edges
    return _textured(np.random.default_rng(seed), texture)


def checkerboard(size: tuple[int, int], seed: int, degrees: float, cell: float) -> np.ndarray:
    u, v = _coords(size, degrees)
    texture = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(np.float32)
    return _textured(np.random.default_rng(seed), texture, contrast=0.7)


def text_page(size: tuple[int, int], seed: int, font_px: int) -> np.ndarray:
    """A printed page photographed flat: columns of small text, headings, a ruled table."""
    rng = np.random.default_rng(seed)
    page = Image.new("L", size, 236)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=font_px)
    heading = ImageFont.load_default(size=font_px * 2)
    w, h = size
    margin = w // 20
    columns = 2 if w > h else 1
    col_w = (w - 2 * margin) // columns
    for c in range(columns):
        x = margin + c * col_w
        y = margin
        while y < h - margin - font_px:
            if rng.random() < 0.04:
                draw.text((x, y), " ".join(rng.choice(_WORDS, 3)).upper(), fill=20, font=heading)
                y += font_px * 3
                continue
            if rng.random() < 0.02:  # a small ruled table
                rows = int(rng.integers(3, 8))
                for r in range(rows + 1):
                    draw.line((x, y + r * font_px * 2, x + col_w - margin, y + r * font_px * 2))
                y += rows * font_px * 2 + font_px
                continue
            words = " ".join(rng.choice(_WORDS, int(col_w / (font_px * 3))))
            draw.text((x, y), words, fill=int(rng.integers(0, 60)), font=font)
            y += int(font_px * 1.35)
    pixels = np.asarray(page, dtype=np.float32) / 255.0
    light = _scene(rng, size, shapes=6).mean(axis=2) * 0.35 + 0.65  # uneven lighting
    return np.repeat((pixels * light)[..., None], 3, axis=2)


def fractal_noise(size: tuple[int, int], seed: int, beta: float) -> np.ndarray:
    """1/f^beta noise (gravel, bark, rough walls), coloured by a smooth scene."""
    rng = np.random.default_rng(seed)
    w, h = size
    fy = np.fft.fftfreq(h).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(w).astype(np.float32)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f**beta
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=(h, w)).astype(np.float32)
    field = (field - field.mean()) / (field.std() + 1e-9)
    texture = np.clip(0.5 + 0.25 * field, 0, 1)
    return _textured(rng, texture, contrast=0.9)


def foliage(size: tuple[int, int], seed: int, leaf_px: int) -> np.ndarray:
    """Dense small leaves in greens and browns with dark gaps between them."""
    rng = np.random.default_rng(seed)
    w, h = size
    image = Image.new("RGB", size, (18, 30, 12))
    draw = ImageDraw.Draw(image)
    count = int(w * h / (leaf_px * leaf_px) * 0.9)
    xs = rng.integers(0, w, count)
    ys = rng.integers(0, h, count)
    lengths = rng.integers(leaf_px // 2, leaf_px + 1, count)
    greens = rng.integers(60, 200, count)
    leaves = zip(xs.tolist(), ys.tolist(), lengths.tolist(), greens.tolist(), strict=True)
    for x, y, length, g in leaves:
        r = g // 3 + (40 if g > 170 else 0)
        dx, dy = length, max(1, length // 3)
        if (x + y) % 2:
            dx, dy = dy, dx
        draw.ellipse((x, y, x + dx, y + dy), fill=(r, g, g // 4))
    base = np.asarray(image, dtype=np.float32) / 255.0
    light = _scene(rng, size, shapes=10).mean(axis=2, keepdims=True)
    lit: np.ndarray = np.clip(base * (0.4 + 1.2 * light), 0, 1)
    return lit


def halftone(size: tuple[int, int], seed: int, pitch: float) -> np.ndarray:
    """A printed picture seen close: a dot screen at 45° whose dots grow with darkness."""
    rng = np.random.default_rng(seed)
    scene = _scene(rng, size)
    grey = scene.mean(axis=2)
    u, v = _coords(size, 45.0)
    du = (u / pitch) % 1.0 - 0.5
    dv = (v / pitch) % 1.0 - 0.5
    dist = np.sqrt(du * du + dv * dv)
    radius = np.sqrt((1.0 - grey) / math.pi)
    ink = dist < radius
    paper = np.ones_like(scene) * 0.95
    tint = scene / (scene.max(axis=2, keepdims=True) + 1e-6)
    return np.where(ink[..., None], tint * 0.25, paper)


TEXTURES: dict[str, tuple[str, Callable[[tuple[int, int], int], np.ndarray]]] = {
    "stripes-0": ("stripes", lambda s, r: stripes(s, r, 0.0, 3.0)),
    "stripes-15": ("stripes", lambda s, r: stripes(s, r, 15.0, 2.5)),
    "stripes-45": ("stripes", lambda s, r: stripes(s, r, 45.0, 4.0)),
    "stripes-80": ("stripes", lambda s, r: stripes(s, r, 80.0, 3.3)),
    "checker-0": ("checker", lambda s, r: checkerboard(s, r, 0.0, 2.0)),
    "checker-30": ("checker", lambda s, r: checkerboard(s, r, 30.0, 3.0)),
    "checker-60": ("checker", lambda s, r: checkerboard(s, r, 60.0, 4.5)),
    "text-small": ("text", lambda s, r: text_page(s, r, max(8, s[0] // 400))),
    "text-tiny": ("text", lambda s, r: text_page(s, r, max(6, s[0] // 600))),
    "fractal-rough": ("fractal", lambda s, r: fractal_noise(s, r, 0.6)),
    "fractal-gravel": ("fractal", lambda s, r: fractal_noise(s, r, 0.9)),
    "foliage-fine": ("foliage", lambda s, r: foliage(s, r, max(4, s[0] // 500))),
    "foliage-leaves": ("foliage", lambda s, r: foliage(s, r, max(6, s[0] // 200))),
    "halftone-fine": ("halftone", lambda s, r: halftone(s, r, max(3.0, s[0] / 1000))),
    "halftone-coarse": ("halftone", lambda s, r: halftone(s, r, max(4.0, s[0] / 500))),
}


def skimage_data_dir() -> Path | None:
    """scikit-image's shipped data folder, found without importing skimage."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def scenery(path: Path, size: tuple[int, int], seed: int) -> np.ndarray:
    """A shipped picture upscaled to camera size, with a little sensor grain."""
    image = Image.open(path).convert("RGB")
    target = size if image.width >= image.height else (size[1], size[0])
    big = np.asarray(image.resize(target, Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
    grain = np.random.default_rng(seed).normal(0, 0.012, big.shape[:2]).astype(np.float32)
    grainy: np.ndarray = np.clip(big + grain[..., None], 0, 1)
    return grainy


def base_pictures(
    size: tuple[int, int], *, with_scenery: bool = True, only: Collection[str] | None = None
) -> Iterator[tuple[str, str, Callable[[], np.ndarray]]]:
    for seed, (name, (kind, make)) in enumerate(TEXTURES.items(), start=100):
        if only is not None and name not in only:
            continue
        yield name, kind, lambda make=make, seed=seed: make(size, seed)  # type: ignore[misc]
    folder = skimage_data_dir() if with_scenery else None
    if folder is not None:
        for seed, file in enumerate(SCENERY, start=500):
            path = folder / file
            if only is not None and f"scene-{path.stem}" not in only:
                continue
            if path.exists():
                yield (
                    f"scene-{path.stem}",
                    "scenery",
                    lambda path=path, seed=seed: scenery(path, size, seed),  # type: ignore[misc]
                )


# ---------------------------------------------------------------- variants


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "FidelityCam", "F1"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def variants(pixels: np.ndarray) -> dict[str, bytes]:
    """The camera JPEG of `pixels` (float RGB 0..1) and its five near-duplicates."""
    original = Image.fromarray((pixels * 255 + 0.5).astype(np.uint8))
    camera = _jpeg(original)
    decoded = Image.open(io.BytesIO(camera)).convert("RGB")  # variants start from the file
    w, h = decoded.size
    half = decoded.resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    bright = Image.fromarray(
        np.clip(np.asarray(decoded, dtype=np.float32) * 1.15, 0, 255).astype(np.uint8)
    )
    dx, dy = round(w * 0.025), round(h * 0.025)
    crop = decoded.crop((dx, dy, w - dx, h - dy))
    label = decoded.copy()
    draw = ImageDraw.Draw(label)
    box = (w // 40, h - h // 9, w // 40 + w // 3, h - h // 40)
    draw.rectangle(box, fill=(250, 250, 250))
    font = ImageFont.load_default(size=max(8, (box[3] - box[1]) // 3))
    where = (box[0] + w // 80, box[1] + h // 60)
    draw.text(where, "IMG 2024-05-01 10:32", fill=(0, 0, 0), font=font)
    return {
        "original": camera,
        "half": _jpeg(half, 90),
        "q30": _jpeg(decoded, 30),
        "bright": _jpeg(bright, 90),
        "crop5": _jpeg(crop, 90),
        "label": _jpeg(label, 90),
    }


def build(
    root: Path,
    size: tuple[int, int] = CAMERA,
    *,
    with_scenery: bool = True,
    only: Collection[str] | None = None,
) -> list[Picture]:
    """Generate (or reuse) the corpus under `root`; returns every picture, originals first."""
    pictures: list[Picture] = []
    for name, kind, make in base_pictures(size, with_scenery=with_scenery, only=only):
        paths = {v: root / name / f"{v}.jpg" for v in VARIANTS}
        if not all(p.exists() for p in paths.values()):
            (root / name).mkdir(parents=True, exist_ok=True)
            for variant, data in variants(make()).items():
                tmp = paths[variant].with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(paths[variant])
        pictures.extend(Picture(name, kind, v, paths[v]) for v in VARIANTS)
    return pictures
