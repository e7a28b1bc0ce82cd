"""Benign test media made on the fly: shapes, gradients, noise and text. Never people."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture of coloured shapes on a gradient, different for every seed."""
    rng = random.Random(seed)
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    base = np.stack(
        [
            (x * rng.random() + y * rng.random()) % 256,
            (x * rng.random() + 80) % 256 + 0 * y,
            (y * rng.random() + 40) % 256 + 0 * x,
        ],
        axis=-1,
    ).astype(np.uint8)
    image = Image.fromarray(base, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(w // 8, w // 2), y0 + rng.randrange(h // 8, h // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    draw.text((10, 10), f"test scene {seed}", fill=(255, 255, 255))
    return image


def jpeg_bytes(image: Image.Image, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    if exif is not None:
        image.save(out, "JPEG", quality=quality, exif=exif)
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def gps_exif(lat: float, lon: float) -> Image.Exif:
    """EXIF with camera make/model, a capture time and a GPS position."""

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 4)
        return (float(d), float(m), s)

    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0110] = "Model 7"
    exif[0x0131] = "FirmWare 1.2"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:01 10:20:30"
    sub[0x9011] = "+05:00"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = dms(lat)
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = dms(lon)
    return exif


def moving_frames(
    seed: int, seconds: float, fps: int = 10, size: tuple[int, int] = (320, 240)
) -> list[Image.Image]:
    """A benign clip: a scene that changes every second, with a shape moving across it."""
    frames = []
    w, h = size
    for i in range(round(seconds * fps)):
        image = scene(seed * 1000 + i // fps, size)
        draw = ImageDraw.Draw(image)
        x = (i * 7) % max(1, w - 40)
        draw.ellipse((x, h // 2 - 20, x + 40, h // 2 + 20), fill=(250, 250, 30))
        draw.text((10, h - 20), f"frame {i}", fill=(0, 0, 0))
        frames.append(image)
    return frames


def video_bytes(
    frames: list[Image.Image],
    *,
    fps: int = 10,
    container: str = "mp4",
    codec: str = "libx264",
    size: tuple[int, int] | None = None,
    bit_rate: int | None = None,
    gop: int | None = None,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """Frames encoded into a video with PyAV (FFmpeg in the wheel), in memory."""
    import av
    import av.video.stream

    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as output:
        for key, value in (metadata or {}).items():
            output.metadata[key] = value
        stream = output.add_stream(codec, rate=fps)
        assert isinstance(stream, av.video.stream.VideoStream)
        w, h = size or frames[0].size
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        if gop is not None:
            stream.codec_context.gop_size = gop
        for image in frames:
            frame = av.VideoFrame.from_image(image.resize((w, h)) if size else image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue()
