"""Benign generated pictures (coloured shapes over noise, never people) and the demo's scan of a
seized phone made from them by the real triage engine."""

from __future__ import annotations

import hashlib
import random
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance

# A bank standing in for a hotline's list of known material, made of the hashes of two of the
# demo's own generated pictures, so that the demo scan shows matches found without anyone
# looking at a picture: one exact (SHA-1), one near-duplicate (PDQ of a brighter JPEG copy).
DEMO_BANK = "demo-hotline-list"
DEMO_BANK_AGENCY = "PB-PFSA"


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
        seed_demo_bank(phone, Path(tmp))
        out = Path(tmp) / "demo-phone.scan"
        start_scan(
            ScanOptions(
                sources=[phone.parent], out=out, case_ref=str(case.reference), examiner=examiner
            )
        )
        upload = SimpleUploadedFile(out.name, out.read_bytes(), "application/x-sqlite3")
    return evidence.import_uploaded_scan(actor, case, upload, item=item)


def seed_demo_bank(phone: Path, work: Path) -> None:
    """The demo's hash bank (once), owned by the Punjab forensic agency, filled through the
    bank's import action from two lists a hotline might send: the SHA-1 of the phone's
    IMG_0001.jpg, and the PDQ hash of a copy of IMG_0002.png made 10 % brighter and saved as a
    JPEG of quality 70 (a re-saved copy seen elsewhere), which the scan's PDQ finds within a
    few bits while its bytes differ. Every hash is of the demo's own generated pictures (shapes
    over noise)."""
    from muhafiz.catalogue.models import Agency
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.hashbank import actions as hashbank
    from muhafiz.hashbank.models import Bank
    from muhafiz.triage.imaging import pdq_of_pixels

    if Bank.objects.filter(name=DEMO_BANK).exists():
        return
    bank = hashbank.create_bank(
        SYSTEM,
        name=DEMO_BANK,
        kind="known-bad",
        agency=Agency.objects.get(code=DEMO_BANK_AGENCY),
        description=(
            "Synthetic demo list: hashes of two of the demo's own generated pictures (shapes "
            "over noise), standing in for a hotline's list of known material."
        ),
    )
    exact = work / "demo-hotline.sha1.txt"
    exact.write_text(hashlib.sha1((phone / "IMG_0001.jpg").read_bytes()).hexdigest() + "\n")  # noqa: S324 - a hash list's own kind
    copy = work / "seen-elsewhere.jpg"
    with Image.open(phone / "IMG_0002.png") as original:
        ImageEnhance.Brightness(original.convert("RGB")).enhance(1.1).save(copy, quality=70)
    with Image.open(copy) as seen:
        near = pdq_of_pixels(seen.convert("RGB"))
    pdq = work / "demo-hotline.pdq"
    pdq.write_text(f"{near.hex},{near.quality}\n", encoding="ascii")
    for path in (exact, pdq):
        hashbank.import_hash_list(SYSTEM, bank, path)
