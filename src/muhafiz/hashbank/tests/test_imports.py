"""Imports: every format, provenance, idempotence, all-or-nothing, collisions, removal."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue.models import Agency
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, CategoryScheme, ImportStatus
from muhafiz.hashbank.tests.conftest import digests, random_hex
from muhafiz.testing import People, agency, province

pytestmark = pytest.mark.django_db

VICS_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
VICS_13 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"


def _bank(
    actor: object = SYSTEM, name: str = "Hotline list", kind: str = "known-bad", **owner: Any
) -> Bank:
    return actions.create_bank(actor, name=name, kind=kind, **owner)


def _punjab_agency() -> Agency:
    """An agency of Punjab: its banks are managed by Punjab's provincial examiners."""
    owner = agency()
    owner.province = province("PB")
    owner.save(update_fields=["province"])
    return owner


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _checksum_list(files: list[Path], algo: str) -> str:
    return "".join(f"{digests(p.read_bytes())[algo]}  {p.name}\n" for p in files)


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_checksum_tool_output_imports_with_provenance(
    people: People, sample_files: list[Path], tmp_path: Path, algo: str
) -> None:
    source = _write(tmp_path / f"{algo}sums.txt", _checksum_list(sample_files, algo))
    bank = _bank(people.forensic_examiner, agency=_punjab_agency())

    result = actions.import_hash_list(people.forensic_examiner, bank, source)

    assert result.status == ImportStatus.COMPLETED
    assert (result.added, result.duplicates, result.bad) == (5, 0, 0)
    assert result.format == "checksum"
    assert result.source_name == source.name
    assert len(result.source_sha256) == 64
    assert result.imported_by == people.forensic_examiner
    stored = set(BankEntry.objects.filter(bank=bank).values_list(algo, flat=True))
    assert stored == {digests(p.read_bytes())[algo] for p in sample_files}
    assert AuditEvent.objects.filter(action="bank.import", object_id=str(result.pk)).exists()


def test_hashdeep_csv_imports_md5_and_sha256_together(
    people: People, sample_files: list[Path], tmp_path: Path
) -> None:
    lines = ["%%%% HASHDEEP-1.0", "%%%% size,md5,sha256,filename", "## made by a test"]
    for p in sample_files:
        d = digests(p.read_bytes())
        lines.append(f"{p.stat().st_size},{d['md5']},{d['sha256']},{p}")
    source = _write(tmp_path / "hashdeep.csv", "\n".join(lines) + "\n")

    result = actions.import_hash_list(SYSTEM, _bank(), source)

    assert (result.format, result.added) == ("hashdeep", 5)
    entry = BankEntry.objects.get(md5=digests(sample_files[0].read_bytes())["md5"])
    assert entry.sha256 == digests(sample_files[0].read_bytes())["sha256"]


def test_one_hash_a_line_normalises_mixed_case(people: People, tmp_path: Path) -> None:
    rng = random.Random(4)
    values = [random_hex(rng, 40) for _ in range(3)]
    source = _write(tmp_path / "list.txt", "\n".join(v.upper() for v in values) + "\n")

    result = actions.import_hash_list(SYSTEM, _bank(), source, fmt="plain")

    assert result.added == 3
    assert set(BankEntry.objects.values_list("sha1", flat=True)) == set(values)


def test_pdq_list_keeps_quality(tmp_path: Path, people: People) -> None:
    rng = random.Random(5)
    values = [random_hex(rng, 64) for _ in range(4)]
    source = _write(
        tmp_path / "hashes.pdq", "".join(f"{v},{90 + i}\n" for i, v in enumerate(values))
    )

    result = actions.import_hash_list(SYSTEM, _bank(), source, fmt="pdq")

    assert result.added == 4
    assert BankEntry.objects.get(pdq=values[2]).pdq_quality == 92


def _vics(media: list[dict[str, object]], context: str = VICS_20) -> str:
    key = "@odata.context" if "2.0" in context else "odata.metadata"
    return json.dumps({key: context, "value": media})


def _media(
    data: bytes, media_id: int, category: int | None = 1, **extra: object
) -> dict[str, object]:
    d = digests(data)
    return {
        "MediaID": media_id,
        "Category": category,
        "MD5": d["md5"].upper(),
        "SHA1": d["sha1"],
        "VictimIdentified": "true",
        "OffenderIdentified": "false",
        "Series": "S-1",
        "Tags": ["synthetic"],
        **extra,
    }


@pytest.mark.parametrize("context", [VICS_20, VICS_13])
def test_vics_imports_categories_flags_and_photodna(
    tmp_path: Path, sample_files: list[Path], context: str
) -> None:
    photodna = "AAEC" * 48  # opaque: passed through untouched
    media = [_media(p.read_bytes(), i + 1) for i, p in enumerate(sample_files)]
    media[0]["PhotoDNA"] = photodna
    media[1]["AlternativeHashes"] = [{"HashName": "PDQ", "HashValue": "ab" * 32}]
    source = _write(tmp_path / "vics.json", _vics(media, context))
    scheme = CategoryScheme.objects.get(code="projectvic-us")
    bank = actions.create_bank(SYSTEM, name="VIC", kind="known-bad", category_scheme=scheme)

    result = actions.import_hash_list(SYSTEM, bank, source)

    assert (result.format, result.added) == ("vics", 5)
    first = BankEntry.objects.get(md5=digests(sample_files[0].read_bytes())["md5"])
    assert first.category == 1 and scheme.label_for(first.category) == "Child abuse material"
    assert first.victim_identified is True and first.offender_identified is False
    assert first.series == "S-1" and first.tags == ["synthetic"]
    assert first.photodna == photodna
    assert BankEntry.objects.get(md5=digests(sample_files[1].read_bytes())["md5"]).pdq == "ab" * 32


def test_nsrl_rds_minimal_database_imports_as_known_good(tmp_path: Path) -> None:
    path = tmp_path / "RDS_minimal.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR,
          file_name VARCHAR, file_size INTEGER, package_id INTEGER);
        CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP,
          release_date TIMESTAMP, description VARCHAR);
        CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;
        """
    )
    rows = []
    for i in range(20):
        d = digests(f"software file {i}".encode())
        rows.append((d["sha256"].upper(), d["sha1"].upper(), d["md5"].upper(), f"f{i}.dll", i, 1))
    connection.executemany(
        "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.execute("INSERT INTO VERSION VALUES ('2026.09.1', 'modern', '', '', 'synthetic')")
    connection.commit()
    connection.close()
    bank = actions.create_bank(SYSTEM, name="NSRL", kind="known-good")

    result = actions.import_hash_list(SYSTEM, bank, path)

    assert (result.format, result.added) == ("nsrl", 20)
    assert BankEntry.objects.filter(sha1=digests(b"software file 3")["sha1"]).exists()


def test_an_nsrl_database_with_bad_rows_names_every_one_and_imports_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "RDS_minimal.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR, "
        "file_name VARCHAR, file_size INTEGER, package_id INTEGER)"
    )
    rows = []
    for i in range(10):
        d = digests(f"software file {i}".encode())
        md5 = "not-a-hash" if i in {2, 7} else d["md5"]
        rows.append((d["sha256"], d["sha1"], md5, f"f{i}.dll", i, 1))
    connection.executemany(
        "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.commit()
    connection.close()

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, _bank(kind="known-good"), path, fmt="nsrl")
    assert [e["line"] for e in caught.value.errors] == [3, 8]
    assert not BankEntry.objects.exists()


def test_vpdq_frames_import_their_pdq_hashes(tmp_path: Path) -> None:
    rng = random.Random(6)
    frames = [random_hex(rng, 64) for _ in range(3)]
    text = "".join(f"{i * 30},100,{h},{i:.3f}\n" for i, h in enumerate(frames))
    source = _write(tmp_path / "video.vpdq", text)

    result = actions.import_hash_list(SYSTEM, _bank(), source, fmt="vpdq")

    assert result.added == 3
    assert set(BankEntry.objects.values_list("pdq", flat=True)) == set(frames)


def test_the_same_file_twice_adds_nothing(tmp_path: Path, sample_files: list[Path]) -> None:
    source = _write(tmp_path / "md5sums.txt", _checksum_list(sample_files, "md5"))
    bank = _bank()
    actions.import_hash_list(SYSTEM, bank, source)

    again = actions.import_hash_list(SYSTEM, bank, source)

    assert again.status == ImportStatus.ALREADY_IMPORTED
    assert again.added == 0
    assert BankEntry.objects.filter(bank=bank).count() == 5
    assert BankImport.objects.filter(bank=bank).count() == 2


def test_entries_already_in_the_bank_count_as_duplicates(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _bank()
    actions.import_hash_list(
        SYSTEM, bank, _write(tmp_path / "a.txt", _checksum_list(sample_files[:3], "md5"))
    )

    second = actions.import_hash_list(
        SYSTEM, bank, _write(tmp_path / "b.txt", _checksum_list(sample_files, "md5"))
    )

    assert (second.added, second.duplicates) == (2, 3)
    assert BankEntry.objects.filter(bank=bank).count() == 5


def test_bad_rows_are_each_named_and_nothing_is_imported(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    good = _checksum_list(sample_files, "md5").splitlines()
    lines = [good[0], "zz" * 16 + "  bad-hex.png", good[1], "abc123  short.png", good[2]]
    source = _write(tmp_path / "md5sums.txt", "\n".join(lines) + "\n")
    bank = _bank()

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, bank, source)

    assert [e["line"] for e in caught.value.errors] == [2, 4]
    assert "line 2" in str(caught.value) and "line 4" in str(caught.value)
    assert not BankEntry.objects.filter(bank=bank).exists()
    rejected = BankImport.objects.get(bank=bank)
    assert (rejected.status, rejected.bad, rejected.added) == (ImportStatus.REJECTED, 2, 0)


def test_malformed_vics_json_names_the_place_and_imports_nothing(tmp_path: Path) -> None:
    source = _write(tmp_path / "vics.json", '{"@odata.context": "' + VICS_20 + '", "value": [{')
    bank = _bank()

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, bank, source, fmt="vics")

    assert caught.value.errors and caught.value.errors[0]["message"]
    assert not BankEntry.objects.exists()


def test_every_bad_vics_record_is_named_and_nothing_is_imported(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    media = [_media(path.read_bytes(), number) for number, path in enumerate(sample_files, 1)]
    media[1]["MD5"] = "abc123"  # too short
    media[3]["SHA1"] = "zz" * 20  # not hex
    source = _write(tmp_path / "vics.json", _vics(media))

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, _bank(), source)

    messages = [error["message"] for error in caught.value.errors]
    assert len(messages) == 2
    assert "record 2" in messages[0] and "record 4" in messages[1]
    assert not BankEntry.objects.exists()


def test_allow_partial_imports_the_good_rows_and_names_the_bad(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    good = _checksum_list(sample_files[:2], "md5")
    source = _write(tmp_path / "md5sums.txt", good + "nothex  x.png\n")

    result = actions.import_hash_list(SYSTEM, _bank(), source, allow_partial=True)

    assert (result.added, result.bad) == (2, 1)
    assert result.errors[0]["line"] == 3


def test_a_bank_name_collision_is_a_clear_error() -> None:
    _bank(name="Partner list")

    with pytest.raises(actions.BankError, match="already exists"):
        _bank(name="partner list")
    assert Bank.objects.count() == 1


def test_a_provincial_examiner_cannot_change_a_national_bank_through_its_actions(
    people: People, tmp_path: Path, sample_files: list[Path]
) -> None:
    """The actions check the bank's jurisdiction themselves, whoever calls them."""
    bank = _bank()
    source = _write(tmp_path / "n.txt", _checksum_list(sample_files, "md5"))
    actions.import_hash_list(SYSTEM, bank, source)
    entry = BankEntry.objects.filter(bank=bank).first()
    assert entry is not None
    examiner = people.forensic_examiner
    with pytest.raises(PermissionDenied):
        actions.remove_entry(examiner, entry, reason="not theirs")
    with pytest.raises(PermissionDenied):
        actions.set_bank_enabled(examiner, bank, False, reason="not theirs")
    with pytest.raises(PermissionDenied):
        actions.import_hash_list(examiner, bank, source)
    with pytest.raises(PermissionDenied):
        actions.create_bank(examiner, name="Another national list", kind="watch")
    assert BankEntry.objects.active().filter(bank=bank).count() == 5
    assert Bank.objects.get(pk=bank.pk).enabled is True


def test_removal_keeps_the_row_with_reason_and_remover(
    people: People, tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _bank(agency=_punjab_agency())
    actions.import_hash_list(
        SYSTEM, bank, _write(tmp_path / "m.txt", _checksum_list(sample_files, "md5"))
    )
    entry = BankEntry.objects.filter(bank=bank).first()
    assert entry is not None

    removed = actions.remove_entry(people.forensic_examiner, entry, reason="benign: logo file")

    assert removed.removed_at is not None
    assert removed.removal_reason == "benign: logo file"
    assert removed.removed_by == people.forensic_examiner
    assert BankEntry.objects.active().filter(bank=bank).count() == 4
    event = AuditEvent.objects.get(action="bank.entry.remove")
    assert event.reason == "benign: logo file"
    with pytest.raises(actions.BankError, match="already removed"):
        actions.remove_entry(people.forensic_examiner, removed, reason="again")
    other = BankEntry.objects.active().first()
    assert other is not None
    with pytest.raises(actions.BankError, match="reason"):
        actions.remove_entry(people.forensic_examiner, other, reason=" ")


def test_a_removed_hash_can_be_imported_again(tmp_path: Path, sample_files: list[Path]) -> None:
    bank = _bank()
    source = _write(tmp_path / "m.txt", _checksum_list(sample_files[:1], "md5"))
    actions.import_hash_list(SYSTEM, bank, source)
    actions.remove_entry(SYSTEM, BankEntry.objects.get(bank=bank), reason="wrongly listed")

    result = actions.import_hash_list(
        SYSTEM, bank, _write(tmp_path / "m2.txt", _checksum_list(sample_files[:1], "md5") + "\n")
    )

    assert result.added == 1
    assert BankEntry.objects.filter(bank=bank).count() == 2


def test_an_import_that_adds_entries_queues_an_index_rebuild(
    tmp_path: Path, sample_files: list[Path], django_capture_on_commit_callbacks: object
) -> None:
    bank = _bank()
    source = _write(tmp_path / "m.txt", _checksum_list(sample_files, "md5"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        actions.import_hash_list(SYSTEM, bank, source)

    from django_tasks_db.models import DBTaskResult

    assert len(callbacks) == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "muhafiz.hashbank.tasks.rebuild_index"


def test_repeats_inside_one_file_count_as_duplicates(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    text = _checksum_list(sample_files[:2], "md5")
    source = _write(tmp_path / "m.txt", text + text)

    result = actions.import_hash_list(SYSTEM, _bank(), source)

    assert (result.added, result.duplicates) == (2, 2)


def test_the_same_hash_with_two_categories_is_a_named_bad_row(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    data = sample_files[0].read_bytes()
    source = _write(
        tmp_path / "vics.json",
        _vics([_media(data, 1, category=1), _media(data, 2, category=2)]),
    )

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, _bank(), source)

    assert "different details" in caught.value.errors[0]["message"]
    assert not BankEntry.objects.exists()


def test_an_unknown_vics_version_is_named_and_nothing_imported(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    context = (
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/3.1.xml/Default/$metadata#Media"
    )
    source = _write(tmp_path / "v.json", _vics([_media(sample_files[0].read_bytes(), 1)], context))

    with pytest.raises(actions.ImportRejectedError, match="unknown VICS version"):
        actions.import_hash_list(SYSTEM, _bank(), source)
    assert not BankEntry.objects.exists()


def test_a_sqlite_file_that_is_not_nsrl_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()

    with pytest.raises(actions.BankError) as caught:
        actions.import_hash_list(SYSTEM, _bank(kind="known-good"), path)
    assert "other.db" in str(caught.value) or "NSRL" in str(caught.value)
    assert not BankEntry.objects.exists()


def test_a_truncated_nsrl_database_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "RDS.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR, "
        "file_name VARCHAR, file_size INTEGER, package_id INTEGER)"
    )
    rows = []
    for i in range(3000):
        d = digests(f"software {i}".encode())
        rows.append((d["sha256"], d["sha1"], d["md5"], f"f{i}", i, 1))
    connection.executemany(
        "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.commit()
    connection.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(actions.BankError):
        actions.import_hash_list(SYSTEM, _bank(kind="known-good"), path, fmt="nsrl")
    assert not BankEntry.objects.exists()


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [("", None, "empty"), ("x\n", "no-such-format", "unknown hash-list format")],
)
def test_unreadable_inputs_are_clear_errors(
    tmp_path: Path, content: str, fmt: str | None, message: str
) -> None:
    source = _write(tmp_path / "f.txt", content)
    with pytest.raises(actions.BankError, match=message):
        actions.import_hash_list(SYSTEM, _bank(), source, fmt=fmt)
