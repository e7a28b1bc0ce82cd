"""Fixtures of the evidence tests: a Lahore and a Kasur case with their teams, benign generated
images (shapes and noise, never people), and real scan files made by the triage engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageEnhance

from muhafiz.cases import actions as case_actions
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency, District
from muhafiz.demo.media import noise_image
from muhafiz.testing import People

# Synthetic victim identity: must never appear in a link alert or on the network page.
VICTIM_NAME = "Gulnaz Evidencetest Bibi"
VICTIM_CNIC = "35202-1112223-4"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _scan_roots(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "sources"
    root.mkdir()
    settings.MUHAFIZ_SCAN_ROOTS = [root]
    return root


@pytest.fixture(autouse=True)
def _media_index(settings: Any, tmp_path: Path) -> None:
    """Each test its own standing cross-case index (the database rows are the test's own)."""
    settings.MUHAFIZ_MEDIA_INDEX_DIR = tmp_path / "media-index"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return tmp_path / "sources"


def _case(actor: Any, code: str, fir: str) -> Case:
    return case_actions.create_case(
        actor,
        district=District.objects.get(code=code),
        agency=Agency.objects.get(code="PB-POLICE"),
        fir_number="",
        reported_at=timezone.now() - dt.timedelta(days=3),
        facts={"victim_under_18", "abuse_recorded"},
    )


@pytest.fixture
def lahore_case(people: People) -> Case:
    people.lahore_investigator.first_name = "Imran"
    people.lahore_investigator.last_name = "Lahori"
    people.lahore_investigator.phone = "042-99990001"
    people.lahore_investigator.save(update_fields=["first_name", "last_name", "phone"])
    case = _case(people.lahore_investigator, "LHR", "")
    for member, role in (
        (people.prosecutor, "prosecutor"),
        (people.forensic_examiner, "forensic_examiner"),
        (people.child_protection_officer, "child_protection_officer"),
    ):
        case_actions.add_team_member(people.lahore_supervisor, case, member, role)
    case_actions.add_victim(
        people.lahore_investigator,
        case,
        case_actions.VictimIdentity(name=VICTIM_NAME, cnic=VICTIM_CNIC),
        gender="girl",
    )
    return case


@pytest.fixture
def kasur_case(people: People) -> Case:
    people.kasur_investigator.first_name = "Saima"
    people.kasur_investigator.last_name = "Kasuri"
    people.kasur_investigator.phone = "049-99990002"
    people.kasur_investigator.save(update_fields=["first_name", "last_name", "phone"])
    return _case(people.kasur_investigator, "KSR", "")


def near_copy(image: Image.Image) -> Image.Image:
    """A slightly altered copy: a little brighter, with a small mark in one corner."""
    copy = ImageEnhance.Brightness(image).enhance(1.06)
    ImageDraw.Draw(copy).rectangle((2, 2, 14, 14), fill=(250, 250, 250))
    return copy


@pytest.fixture
def make_scan(tmp_path: Path) -> Callable[[Path, str], Path]:
    """Run the real triage engine on a folder; returns the scan file."""
    from muhafiz.triage.engine import ScanOptions, start_scan

    def scan(source: Path, name: str) -> Path:
        out = tmp_path / f"{name}.scan"
        start_scan(ScanOptions(sources=[source], out=out, examiner="test examiner"))
        return out

    return scan


def upload_of(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/x-sqlite3")


@pytest.fixture
def two_devices(sources: Path) -> tuple[Path, Path]:
    """A Lahore phone and a Kasur phone sharing one file and one near-identical image."""
    shared = noise_image(1)
    near = noise_image(2)
    lahore = sources / "lahore-phone" / "DCIM"
    kasur = sources / "kasur-phone" / "Pictures"
    lahore.mkdir(parents=True)
    kasur.mkdir(parents=True)
    shared.save(lahore / "IMG_0001.png")
    (kasur / "forwarded.png").write_bytes((lahore / "IMG_0001.png").read_bytes())
    near.save(lahore / "IMG_0002.jpg", quality=92)
    near_copy(near).save(kasur / "edited.jpg", quality=85)
    noise_image(3).save(lahore / "IMG_0003.png")
    noise_image(4).save(kasur / "other.png")
    # The same text file on both: not pictures or video, so it links nothing.
    (kasur / "notes.txt").write_text("shopping list: rice, lentils\n")
    (lahore / "notes.txt").write_text("shopping list: rice, lentils\n")
    return lahore.parent, kasur.parent
