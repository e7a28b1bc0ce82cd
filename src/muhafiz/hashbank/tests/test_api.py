"""/api/v1/match, /api/v1/hash and /api/v1/banks: shapes, permissions, limits, audit."""

from __future__ import annotations

import io
import json
import random
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
from muhafiz.hashbank.index import build_index
from muhafiz.hashbank.models import Bank, BankEntry, CategoryScheme
from muhafiz.hashbank.tests.conftest import (
    TokenClient,
    digests,
    encode,
    modified,
    picture,
    random_hex,
)
from muhafiz.testing import People, agency, province, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def banks(tmp_path: Path, sample_files: list[Path]) -> dict[str, Any]:
    """A known-bad bank of md5s and the PDQ of a generated picture; a known-good bank."""
    scheme = CategoryScheme.objects.get(code="projectvic-us")
    owner = agency("PB-PFSA", name="Punjab Forensic Science Agency")
    owner.province = province("PB")
    owner.save(update_fields=["province"])
    bad = actions.create_bank(
        SYSTEM, name="hotline", kind="known-bad", category_scheme=scheme, agency=owner
    )
    image = encode(picture(21))
    from muhafiz.hashbank.hashing import hash_image

    pdq = hash_image(image).pdq
    media = [
        {"MediaID": i + 1, "Category": 1, "MD5": digests(p.read_bytes())["md5"], "Series": "S"}
        for i, p in enumerate(sample_files[:3])
    ]
    media.append(
        {"MediaID": 9, "Category": 2, "AlternativeHashes": [{"HashName": "PDQ", "HashValue": pdq}]}
    )
    context = (
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
    )
    source = tmp_path / "vics.json"
    source.write_text(json.dumps({"@odata.context": context, "value": media}), encoding="utf-8")
    actions.import_hash_list(SYSTEM, bad, source)
    good = actions.create_bank(SYSTEM, name="nsrl", kind="known-good")
    plain = tmp_path / "good.txt"
    plain.write_text(digests(sample_files[4].read_bytes())["sha1"] + "\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, good, plain)
    build_index()
    return {"bad": bad, "good": good, "image": image, "pdq": pdq, "files": sample_files}


def _match(client: Any, hashes: list[dict[str, Any]], **extra: Any) -> Any:
    return client.post(
        "/api/v1/match", json.dumps({"hashes": hashes, **extra}), content_type="application/json"
    )


def test_investigator_matches_exact_and_near_hashes(people: People, banks: dict[str, Any]) -> None:
    client = signed_in(people.lahore_investigator)
    md5 = digests(banks["files"][1].read_bytes())["md5"]
    sha1 = digests(banks["files"][4].read_bytes())["sha1"]
    copy = encode(modified(Image.open(io.BytesIO(banks["image"]))), "JPEG")
    from muhafiz.hashbank.hashing import hash_image

    near = hash_image(copy).pdq
    assert near is not None

    response = _match(
        client,
        [
            {"value": md5.upper()},
            {"value": sha1, "type": "sha1"},
            {"value": near, "type": "pdq"},
            {"value": "f" * 32},
        ],
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] == 3
    first, second, third, fourth = body["results"]
    assert first["value"] == md5 and first["types"] == ["md5"]
    assert first["matches"][0] | {"entry_id": 0} == {
        "bank": "hotline",
        "bank_kind": "known-bad",
        "hash_type": "md5",
        "distance": 0,
        "entry_id": 0,
        "category": 1,
        "category_label": "Child abuse material",
        "series": "S",
        "victim_identified": None,
        "offender_identified": None,
        "tags": [],
    }
    assert second["matches"][0]["bank"] == "nsrl"
    assert second["matches"][0]["bank_kind"] == "known-good"
    assert third["matches"][0]["hash_type"] == "pdq"
    assert 0 < third["matches"][0]["distance"] <= 31
    assert fourth["matches"] == []
    event = AuditEvent.objects.get(action="bank.match")
    assert event.details["queried"] == 4 and event.details["matched"] == 3
    assert md5 not in json.dumps(event.details)  # counts are audited, not the hashes


def test_a_64_character_value_without_type_is_matched_as_sha256_and_pdq(
    people: People, banks: dict[str, Any]
) -> None:
    response = _match(signed_in(people.lahore_investigator), [{"value": banks["pdq"]}])

    result = response.json()["results"][0]
    assert result["types"] == ["sha256", "pdq"]
    assert [m["hash_type"] for m in result["matches"]] == ["pdq"]


def test_low_quality_pdq_queries_are_not_matched(people: People, banks: dict[str, Any]) -> None:
    response = _match(
        signed_in(people.lahore_investigator),
        [{"value": banks["pdq"], "type": "pdq", "pdq_quality": 10}],
    )
    result = response.json()["results"][0]
    assert result["matches"] == [] and "quality" in result["note"]


def test_bad_hashes_are_named_in_a_400(people: People, banks: dict[str, Any]) -> None:
    response = _match(
        signed_in(people.lahore_investigator),
        [{"value": "abc"}, {"value": "zz" * 16}, {"value": "a" * 40, "type": "md5"}],
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "hashes[0]" in message and "hashes[1]" in message and "hashes[2]" in message


def test_an_analyst_cannot_match(people: People, banks: dict[str, Any]) -> None:
    response = _match(signed_in(people.analyst), [{"value": "a" * 32}])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_anonymous_caller_gets_401(banks: dict[str, Any]) -> None:
    assert _match(Client(), [{"value": "a" * 32}]).status_code == 401
    assert Client().get("/api/v1/banks").status_code == 401


def test_an_api_client_with_the_match_scope_can_match(
    token_client: Callable[..., TokenClient], banks: dict[str, Any]
) -> None:
    caller = token_client("hash.match")
    md5 = digests(banks["files"][0].read_bytes())["md5"]

    response = caller.post(
        "/api/v1/match", json.dumps({"hashes": [{"value": md5}]}), content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["matches"][0]["bank"] == "hotline"
    assert AuditEvent.objects.filter(action="bank.match", actor_client=caller.api_client).exists()
    assert caller.get("/api/v1/banks").status_code == 403  # bank.view not granted


def test_an_api_client_without_the_scope_is_refused(
    token_client: Callable[..., TokenClient], banks: dict[str, Any]
) -> None:
    caller = token_client("stats.view")
    response = caller.post(
        "/api/v1/match",
        json.dumps({"hashes": [{"value": "a" * 32}]}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_hash_upload_returns_all_hashes_and_stores_nothing(
    people: People, banks: dict[str, Any], tmp_path: Path
) -> None:
    image = banks["image"]
    client = signed_in(people.forensic_examiner)

    response = client.post(
        "/api/v1/hash", {"file": SimpleUploadedFile("x.png", image, content_type="image/png")}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        **digests(image),
        "pdq": banks["pdq"],
        "pdq_quality": body["pdq_quality"],
        "size": len(image),
    }
    assert body["pdq_quality"] >= 50
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*.png"))


@pytest.mark.parametrize("size", [5_000, 300_000], ids=["read-and-stopped", "declared-length"])
def test_an_oversized_upload_gets_413(
    people: People, banks: dict[str, Any], settings: Any, size: int
) -> None:
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 1000
    response = signed_in(people.forensic_examiner).post(
        "/api/v1/hash", {"file": SimpleUploadedFile("big.png", b"x" * size)}
    )
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["error"]["message"]
    assert not AuditEvent.objects.filter(action="bank.hash").exists()


def test_an_upload_without_a_file_is_a_clear_400(people: People, banks: dict[str, Any]) -> None:
    response = signed_in(people.forensic_examiner).post("/api/v1/hash", {"other": "x"})
    assert response.status_code == 400
    assert "'file'" in response.json()["error"]["message"]


def test_the_upload_route_is_documented_as_multipart(banks: dict[str, Any]) -> None:
    spec = Client().get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/hash"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]


def test_a_corrupt_image_gets_a_clear_400(people: People, banks: dict[str, Any]) -> None:
    broken = banks["image"][:200]
    response = signed_in(people.forensic_examiner).post(
        "/api/v1/hash", {"file": SimpleUploadedFile("broken.png", broken)}
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["message"]


def test_banks_are_listed_with_sizes_for_those_who_may_see_them(
    people: People, banks: dict[str, Any]
) -> None:
    response = signed_in(people.forensic_examiner).get("/api/v1/banks")

    assert response.status_code == 200
    listed = {b["name"]: b for b in response.json()}
    assert listed["hotline"]["entries"] == 4 and listed["hotline"]["kind"] == "known-bad"
    assert listed["hotline"]["category_scheme"] == "projectvic-us"
    assert listed["nsrl"]["entries"] == 1
    assert signed_in(people.lahore_investigator).get("/api/v1/banks").status_code == 403


def test_bank_stats_and_entry_removal_over_the_api(people: People, banks: dict[str, Any]) -> None:
    examiner = signed_in(people.forensic_examiner)
    entry = BankEntry.objects.filter(bank=banks["bad"], md5__isnull=False).first()
    assert entry is not None
    url = f"/api/v1/banks/hotline/entries/{entry.pk}/remove"

    refused = signed_in(people.lahore_investigator).post(
        url, json.dumps({"reason": "x"}), content_type="application/json"
    )
    removed = examiner.post(
        url, json.dumps({"reason": "benign logo"}), content_type="application/json"
    )
    stats = examiner.get("/api/v1/banks/hotline").json()

    assert refused.status_code == 403
    assert removed.status_code == 200 and removed.json()["reason"] == "benign logo"
    assert (stats["entries"], stats["removed"]) == (3, 1)
    assert stats["by_hash"]["md5"] == 2 and stats["by_hash"]["pdq"] == 1
    assert stats["imports"][0]["status"] == "completed"
    assert examiner.get("/api/v1/banks/nope").status_code == 404


def test_a_bank_name_already_taken_cannot_be_created_again(banks: dict[str, Any]) -> None:
    with pytest.raises(actions.BankError, match="already exists"):
        actions.create_bank(SYSTEM, name="Hotline", kind="watch")
    assert Bank.objects.filter(name__iexact="hotline").count() == 1


def test_match_works_before_any_index_is_built(
    people: People, tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = actions.create_bank(SYSTEM, name="fresh", kind="watch")
    source = tmp_path / "pdq.txt"
    pdq = random_hex(random.Random(3), 64)
    source.write_text(pdq + "\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, bank, source, fmt="pdq")

    response = _match(signed_in(people.lahore_investigator), [{"value": pdq, "type": "pdq"}])

    assert response.json()["results"][0]["matches"][0]["bank_kind"] == "watch"
    assert response.json()["index"]["generation"] is None


def test_an_unknown_bank_filter_is_named(people: People, banks: dict[str, Any]) -> None:
    response = _match(
        signed_in(people.lahore_investigator), [{"value": "a" * 32}], banks=["hotline", "nope"]
    )
    assert response.status_code == 400 and "'nope'" in response.json()["error"]["message"]


def test_only_the_asked_banks_are_matched(people: People, banks: dict[str, Any]) -> None:
    md5 = digests(banks["files"][0].read_bytes())["md5"]
    response = _match(signed_in(people.lahore_investigator), [{"value": md5}], banks=["nsrl"])
    assert response.json()["results"][0]["matches"] == []


def test_disabling_a_bank_over_the_api_stops_its_matches(
    people: People, banks: dict[str, Any]
) -> None:
    md5 = digests(banks["files"][0].read_bytes())["md5"]
    examiner = signed_in(people.forensic_examiner)
    url = "/api/v1/banks/hotline/enabled"

    refused = signed_in(people.lahore_investigator).post(
        url, json.dumps({"enabled": False}), content_type="application/json"
    )
    done = examiner.post(
        url,
        json.dumps({"enabled": False, "reason": "under review"}),
        content_type="application/json",
    )

    assert refused.status_code == 403
    assert done.status_code == 200 and done.json()["enabled"] is False
    found = _match(signed_in(people.lahore_investigator), [{"value": md5}]).json()
    assert found["results"][0]["matches"] == []
    assert AuditEvent.objects.get(action="bank.disable").reason == "under review"


def test_a_bank_downloads_as_vics_for_a_bank_manager_only(
    people: People, banks: dict[str, Any]
) -> None:
    examiner = signed_in(people.forensic_examiner)

    response = examiner.get("/api/v1/banks/hotline/export", {"format": "vics"})
    pdq = examiner.get("/api/v1/banks/hotline/export", {"format": "pdq"})

    assert response.status_code == 200
    assert "hotline.json" in response["Content-Disposition"]
    document = json.loads(response.getvalue())
    assert len(document["value"]) == 4
    assert pdq.getvalue().decode().startswith(banks["pdq"])
    assert AuditEvent.objects.filter(action="bank.export").count() == 2
    refused = signed_in(people.lahore_investigator).get("/api/v1/banks/hotline/export")
    assert refused.status_code == 403


def test_a_provincial_examiner_cannot_manage_a_national_or_another_provinces_bank(
    people: People, banks: dict[str, Any], token_client: Callable[..., TokenClient]
) -> None:
    sindh = agency("SD-POLICE", name="Sindh Police")
    sindh.province = province("SD", "Sindh")
    sindh.save(update_fields=["province"])
    actions.create_bank(SYSTEM, name="sindh-list", kind="watch", agency=sindh)
    examiner = signed_in(people.forensic_examiner)  # Punjab, provincial jurisdiction
    body = json.dumps({"enabled": False, "reason": "test"})

    national = examiner.post("/api/v1/banks/nsrl/enabled", body, content_type="application/json")
    other = examiner.post("/api/v1/banks/sindh-list/enabled", body, content_type="application/json")
    own = examiner.post("/api/v1/banks/hotline/enabled", body, content_type="application/json")
    nationwide = token_client("bank.manage", name="national-ops").post(
        "/api/v1/banks/nsrl/enabled", body, content_type="application/json"
    )

    assert (national.status_code, other.status_code, own.status_code) == (403, 403, 200)
    assert nationwide.status_code == 200


def test_an_overlong_removal_reason_is_refused_naming_the_field_and_nothing_written(
    people: People, banks: dict[str, Any]
) -> None:
    # Before: any length was stored (the column is a text field without a limit).
    from muhafiz.core.limits import max_length

    entry = BankEntry.objects.filter(bank=banks["bad"], md5__isnull=False).first()
    assert entry is not None
    too_long = "r" * (max_length(BankEntry, "removal_reason") + 1)
    response = signed_in(people.forensic_examiner).post(
        f"/api/v1/banks/hotline/entries/{entry.pk}/remove",
        json.dumps({"reason": too_long}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason: Keep it under 2000 characters" in response.json()["error"]["message"]
    entry.refresh_from_db()
    assert entry.removed_at is None and entry.removal_reason == ""


def test_an_overlong_reason_to_disable_a_bank_is_refused_as_on_the_page(
    people: People, banks: dict[str, Any]
) -> None:
    # Before: the page took 500 characters, the API any length (stored in the audit log).
    from muhafiz.hashbank.forms import EnableForm
    from muhafiz.hashbank.models import ENABLE_REASON_MAX_LENGTH

    assert EnableForm.base_fields["reason"].max_length == ENABLE_REASON_MAX_LENGTH  # type: ignore[attr-defined]
    response = signed_in(people.forensic_examiner).post(
        "/api/v1/banks/hotline/enabled",
        json.dumps({"enabled": False, "reason": "r" * (ENABLE_REASON_MAX_LENGTH + 1)}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason" in str(response.json()["error"]["details"])
    with pytest.raises(actions.BankError, match="reason"):
        actions.set_bank_enabled(
            people.forensic_examiner,
            Bank.objects.get(name="hotline"),
            False,
            reason="r" * (ENABLE_REASON_MAX_LENGTH + 1),
        )
    assert Bank.objects.get(name="hotline").enabled is True
    assert not AuditEvent.objects.filter(action="bank.disable").exists()
