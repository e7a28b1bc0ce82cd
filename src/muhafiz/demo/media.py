"""Benign generated pictures (coloured shapes over noise, never people) and the demo's scan of a
seized phone made from them by the real triage engine."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw


def noise_image(seed: int, size: int = 320) -> Image.Image:
    """A benign picture: coloured shapes over noise, different for every seed."""
    rng = random.Random(seed)  # noqa: S311 - shapes of a test picture, not a secret
    image = Image.effect_noise((size, size), 60).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size), rng.randrange(size)
        w, h = rng.randrange(20, size // 2), rng.randrange(20, size // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
    return image


def seed_demo_scan(actor: Any, case: Any, item: Any, examiner: str) -> Any:
    """Scan a synthetic phone folder with the triage engine and import the scan file onto `item`
    as an upload from the field laptop: three generated pictures, one of them renamed to look
    like a text file (the scan page and the reports flag it), and a note."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from muhafiz.evidence import actions as evidence
    from muhafiz.triage.engine import ScanOptions, start_scan

    with tempfile.TemporaryDirectory(prefix="muhafiz-demo-scan-") as tmp:
        phone = Path(tmp) / "demo-phone" / "DCIM"
        phone.mkdir(parents=True)
        noise_image(101).save(phone / "IMG_0001.jpg", quality=90)
        noise_image(102).save(phone / "IMG_0002.png")
        noise_image(103).save(phone / "budget.txt", format="PNG")
        (phone / "notes.txt").write_text("Synthetic demo note: shopping list.\n", encoding="utf-8")
        out = Path(tmp) / "demo-phone.scan"
        start_scan(
            ScanOptions(
                sources=[phone.parent], out=out, case_ref=str(case.reference), examiner=examiner
            )
        )
        upload = SimpleUploadedFile(out.name, out.read_bytes(), "application/x-sqlite3")
    return evidence.import_uploaded_scan(actor, case, upload, item=item)
