"""HMA-compatible routes: HMA's parameter names, response shapes and errors; access rules."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.hashing import hash_image
from muhafiz.hashbank.index import build_index
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus
from muhafiz.hashbank.tests.conftest import TokenClient, digests, encode, picture
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def hma(tmp_path: Path, token_client: Callable[..., TokenClient]) -> dict[str, Any]:
    image = encode(picture(31))
    pdq = hash_image(image).pdq
    bank = actions.create_bank(SYSTEM, name="HMA_BANK", kind="known-bad")
    source = tmp_path / "list.pdq"
    source.write_text(f"{pdq},100\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, bank, source, fmt="pdq")
    md5_source = tmp_path / "md5sums.txt"
    md5_source.write_text(f"{digests(image)['md5']}  picture.png\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, bank, md5_source)
    actions.create_bank(SYSTEM, name="OFF_BANK", kind="watch", enabled=False)
    build_index()
    return {
        "image": image,
        "pdq": pdq,
        "entry": BankEntry.objects.get(pdq=pdq),
        "caller": token_client("hash.match", "bank.view"),
    }


def test_post_hash_returns_signal_types_to_hashes(hma: dict[str, Any]) -> None:
    response = hma["caller"].post(
        "/h/hash", {"photo": SimpleUploadedFile("p.png", hma["image"], content_type="image/png")}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"pdq": hma["pdq"], **digests(hma["image"])}


def test_post_hash_honours_the_types_parameter(hma: dict[str, Any]) -> None:
    response = hma["caller"].post(
        "/h/hash?types=pdq", {"photo": SimpleUploadedFile("p.png", hma["image"])}
    )
    assert response.json() == {"pdq": hma["pdq"]}
    bad = hma["caller"].post("/h/hash?types=tmk", {"photo": SimpleUploadedFile("p.png", b"x")})
    assert bad.status_code == 400 and "tmk" in bad.json()["message"]


def test_get_hash_with_a_url_is_refused_because_the_server_is_offline(hma: dict[str, Any]) -> None:
    response = hma["caller"].get("/h/hash", {"url": "https://example.org/a.jpg"})

    assert response.status_code == 400
    assert "does not fetch URLs" in response.json()["message"]


def test_post_hash_without_a_file_or_with_two_files_is_a_400(hma: dict[str, Any]) -> None:
    assert hma["caller"].post("/h/hash").json() == {
        "message": "Missing multipart/form-data file upload"
    }
    two = hma["caller"].post(
        "/h/hash",
        {"photo": SimpleUploadedFile("a.png", b"a"), "file": SimpleUploadedFile("b.png", b"b")},
    )
    assert two.status_code == 400 and "one file" in two.json()["message"]


@pytest.mark.parametrize("size", [5_000, 300_000], ids=["read-and-stopped", "declared-length"])
def test_post_hash_oversized_is_413(hma: dict[str, Any], settings: Any, size: int) -> None:
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 1000
    response = hma["caller"].post("/h/hash", {"photo": SimpleUploadedFile("p.png", b"x" * size)})
    assert response.status_code == 413 and "1,000 bytes" in response.json()["message"]


def test_raw_lookup_returns_content_ids_and_optionally_distances(hma: dict[str, Any]) -> None:
    caller, entry = hma["caller"], hma["entry"]

    plain = caller.get("/m/raw_lookup", {"signal": hma["pdq"], "signal_type": "pdq"})
    with_distance = caller.get(
        "/m/raw_lookup", {"signal": hma["pdq"], "signal_type": "pdq", "include_distance": "true"}
    )

    assert plain.json() == {"matches": [entry.pk]}
    assert with_distance.json() == {"matches": [{"bank_content_id": entry.pk, "distance": "0"}]}
    assert AuditEvent.objects.filter(action="bank.match").count() == 2


def test_raw_lookup_errors_speak_hma(hma: dict[str, Any]) -> None:
    caller = hma["caller"]
    assert caller.get("/m/raw_lookup", {"signal_type": "pdq"}).json() == {
        "message": "signal is required"
    }
    unknown = caller.get("/m/raw_lookup", {"signal": "00", "signal_type": "tmk"})
    assert unknown.status_code == 400 and unknown.json() == {"message": "No such SignalType 'tmk'"}
    invalid = caller.get("/m/raw_lookup", {"signal": "xyz", "signal_type": "pdq"})
    assert invalid.status_code == 400 and "invalid signal" in invalid.json()["message"]
    restricted = caller.get(
        "/m/raw_lookup", {"signal": hma["pdq"], "signal_type": "pdq", "banks": "OFF_BANK"}
    )
    assert restricted.json() == {"matches": []}


def test_lookup_by_signal_maps_banks_to_contents_and_distances(hma: dict[str, Any]) -> None:
    response = hma["caller"].get(
        "/m/lookup", {"signal": hma["pdq"], "signal_type": "pdq", "seed": "7"}
    )
    assert response.json() == {"HMA_BANK": [{"bank_content_id": hma["entry"].pk, "distance": "0"}]}
    miss = hma["caller"].get("/m/lookup", {"signal": "0" * 32, "signal_type": "md5"})
    assert miss.json() == {}
    neither = hma["caller"].get("/m/lookup", {"signal": "0" * 32})
    assert neither.json() == {"message": "Either url or both signal and signal_type are required"}


def test_lookup_by_upload_maps_signal_types_to_bank_names(hma: dict[str, Any]) -> None:
    response = hma["caller"].post("/m/lookup", {"photo": SimpleUploadedFile("p.png", hma["image"])})
    body = response.json()
    assert list(body["pdq"]) == ["HMA_BANK"] and list(body["md5"]) == ["HMA_BANK"]
    assert body["pdq"]["HMA_BANK"][0]["bank_content_id"] == hma["entry"].pk
    assert body["sha1"] == {} and body["sha256"] == {}


def test_lookup_by_url_is_refused_offline(hma: dict[str, Any]) -> None:
    response = hma["caller"].get("/m/lookup", {"url": "https://example.org/a.jpg"})
    assert response.status_code == 400 and "does not fetch URLs" in response.json()["message"]


def test_curation_banks_has_hma_bank_config_shape(hma: dict[str, Any]) -> None:
    response = hma["caller"].get("/c/banks")
    assert response.json() == [
        {"name": "HMA_BANK", "matching_enabled_ratio": 1.0},
        {"name": "OFF_BANK", "matching_enabled_ratio": 0.0},
    ]
    assert hma["caller"].get("/c/bank/HMA_BANK").json() == {
        "name": "HMA_BANK",
        "matching_enabled_ratio": 1.0,
    }
    missing = hma["caller"].get("/c/bank/NOPE")
    assert missing.status_code == 404 and missing.json() == {"message": "bank 'NOPE' not found"}


def test_hma_routes_refuse_anonymous_with_401(hma: dict[str, Any]) -> None:
    for path in ("/h/hash", "/m/raw_lookup", "/m/lookup", "/c/banks"):
        response = Client().get(path)
        assert response.status_code == 401, path
        assert "message" in response.json()


def test_an_analyst_session_cannot_use_hma_matching(people: People, hma: dict[str, Any]) -> None:
    response = signed_in(people.analyst).get(
        "/m/raw_lookup", {"signal": hma["pdq"], "signal_type": "pdq"}
    )
    assert response.status_code == 403


def test_an_investigator_session_can_look_up(people: People, hma: dict[str, Any]) -> None:
    response = signed_in(people.lahore_investigator).get(
        "/m/lookup", {"signal": hma["pdq"], "signal_type": "pdq"}
    )
    assert list(response.json()) == ["HMA_BANK"]


def test_a_session_post_without_csrf_token_is_refused(people: People, hma: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.lahore_investigator)
    signed = signed_in(people.lahore_investigator)
    client.cookies = signed.cookies
    response = client.post("/h/hash", {"photo": SimpleUploadedFile("p.png", hma["image"])})
    assert response.status_code == 403 and "CSRF" in response.json()["message"]


def test_a_client_without_bank_view_cannot_list_banks(
    token_client: Callable[..., TokenClient], hma: dict[str, Any]
) -> None:
    caller = token_client("hash.match", name="matcher-only")
    assert caller.get("/c/banks").status_code == 403
    assert json.loads(caller.get("/c/banks").content)["message"]


def test_index_status_has_hma_shape(hma: dict[str, Any]) -> None:
    body = hma["caller"].get("/m/index/status").json()
    assert set(body) == {"pdq", "md5", "sha1", "sha256"}
    assert body["pdq"]["present"] is True and body["pdq"]["size"] == 2
    assert body["pdq"]["built_to"] > 0
    one = hma["caller"].get("/m/index/status", {"signal_type": "pdq"}).json()
    assert set(one) == {"pdq"}


def test_bank_content_resolves_a_lookup_id(hma: dict[str, Any]) -> None:
    entry = hma["entry"]
    url = f"/c/bank/HMA_BANK/content/{entry.pk}"

    plain = hma["caller"].get(url).json()
    with_signals = hma["caller"].get(url, {"include_signals": "true"}).json()

    assert plain == {
        "id": entry.pk,
        "disable_until_ts": 1,
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": {"name": "HMA_BANK", "matching_enabled_ratio": 1.0},
    }
    assert with_signals["signals"] == {"pdq": hma["pdq"]}
    assert hma["caller"].get("/c/bank/HMA_BANK/content/999999").status_code == 404


def test_bank_content_hides_a_row_of_an_import_still_running(hma: dict[str, Any]) -> None:
    """A long import moves its rows in a chunk at a time; until it completes they are nobody's
    to read, by lookup or by id."""
    bank = Bank.objects.get(name="HMA_BANK")
    running = BankImport.objects.create(
        bank=bank,
        source_name="running.txt",
        source_sha256="2" * 64,
        format="plain",
        status=ImportStatus.RUNNING,
    )
    hidden = BankEntry.objects.create(bank=bank, md5="b" * 32, added_by=running)
    url = f"/c/bank/HMA_BANK/content/{hidden.pk}"
    assert hma["caller"].get(url).status_code == 404
    running.status = ImportStatus.COMPLETED
    running.save(update_fields=["status"])
    assert hma["caller"].get(url).json()["id"] == hidden.pk


def test_a_session_post_with_its_csrf_token_is_served(people: People, hma: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    signed = signed_in(people.lahore_investigator)
    client.cookies = signed.cookies
    secret = "a" * 32
    client.cookies["csrftoken"] = secret

    response = client.post(
        "/h/hash?types=pdq",
        {"photo": SimpleUploadedFile("p.png", hma["image"])},
        HTTP_X_CSRFTOKEN=secret,
    )

    assert response.status_code == 200 and response.json() == {"pdq": hma["pdq"]}


def _textured_jpeg(seed: int, size: tuple[int, int]) -> bytes:
    """A camera-sized JPEG with fine stripes over a picture: the hard case for a reduced decode."""
    import numpy as np

    y, x = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    stripes = np.clip(0.5 + 1.5 * np.sin((x * 0.97 + y * 0.26) * (2 * np.pi / 2.7)), 0, 1)
    small = picture(seed, (size[0] // 20, size[1] // 20)).convert("RGB")
    base = np.asarray(small.resize(size, Image.Resampling.NEAREST), dtype=np.float32)
    pixels = np.clip(base * (0.3 + 0.7 * stripes[..., None]), 0, 255).astype(np.uint8)
    return encode(Image.fromarray(pixels), "JPEG", quality=92)


def test_api_hash_hma_hash_and_a_field_scan_give_the_same_pdq_for_the_same_file(
    hma: dict[str, Any], people: People, tmp_path: Path
) -> None:
    from muhafiz.triage.engine import ScanOptions, start_scan

    photos = {"stripes.jpg": _textured_jpeg(5, (2700, 2000)), "plain.jpg": hma["image"]}
    drive = tmp_path / "drive"
    drive.mkdir()
    for name, data in photos.items():
        (drive / name).write_bytes(data)
    start_scan(ScanOptions(sources=[drive], out=tmp_path / "s.scan"))
    with sqlite3.connect(tmp_path / "s.scan") as conn:
        scanned = dict(conn.execute("SELECT path, pdq FROM files").fetchall())
    examiner = signed_in(people.forensic_examiner)
    for name, data in photos.items():
        api = examiner.post("/api/v1/hash", {"file": SimpleUploadedFile(name, data)})
        assert api.status_code == 200, api.content
        hma_hash = hma["caller"].post("/h/hash", {"photo": SimpleUploadedFile(name, data)})
        assert hma_hash.status_code == 200, hma_hash.content
        assert scanned[f"drive/{name}"] == api.json()["pdq"] == hma_hash.json()["pdq"], name
