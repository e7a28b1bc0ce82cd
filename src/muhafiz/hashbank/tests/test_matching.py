"""The shared index and the matching path: built, mapped, delta-aware, removal-aware; exports."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image

from muhafiz.banks.match import Matcher, load_bank_path
from muhafiz.banks.model import BankKind
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.actions.exports import export_bank
from muhafiz.hashbank.hashing import hash_image
from muhafiz.hashbank.index import build_index, current_index, index_root
from muhafiz.hashbank.matching import HashQuery, match_hashes, parse_query
from muhafiz.hashbank.models import Bank, BankEntry, CategoryScheme
from muhafiz.hashbank.tests.conftest import digests, encode, modified, picture, random_hex

pytestmark = pytest.mark.django_db

VICS_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"


def _flip(pdq: str, bits: int, seed: int = 0) -> str:
    value = int(pdq, 16)
    for bit in random.Random(seed).sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def _pdq_bank(tmp_path: Path, name: str, values: list[str], quality: int = 100) -> Bank:
    bank = actions.create_bank(SYSTEM, name=name, kind="known-bad")
    source = tmp_path / f"{name}.pdq"
    source.write_text("".join(f"{v},{quality}\n" for v in values), encoding="utf-8")
    actions.import_hash_list(SYSTEM, bank, source, fmt="pdq")
    return bank


def _md5_bank(tmp_path: Path, name: str, files: list[Path]) -> Bank:
    bank = actions.create_bank(SYSTEM, name=name, kind="known-bad")
    source = tmp_path / f"{name}.md5"
    source.write_text(
        "".join(f"{digests(p.read_bytes())['md5']}  {p.name}\n" for p in files), encoding="utf-8"
    )
    actions.import_hash_list(SYSTEM, bank, source)
    return bank


def _only(kind: str, value: str) -> list[HashQuery]:
    return parse_query(value, kind)


def test_matches_come_from_the_built_index_memory_mapped(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    _md5_bank(tmp_path, "hotline", sample_files)
    built = build_index()

    index = current_index()

    assert index is not None and index.generation == built.generation
    assert (index_root() / built.generation).is_dir()
    md5 = digests(sample_files[2].read_bytes())["md5"]
    outcome = match_hashes(_only("md5", md5.upper()))
    assert [m.entry.bank.name for m in outcome.results[0]] == ["hotline"]
    assert outcome.results[0][0].distance == 0
    assert outcome.index_generation == built.generation
    assert match_hashes(_only("md5", "0" * 32)).results[0] == []


def test_entries_added_after_the_build_match_at_once(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    _md5_bank(tmp_path, "first", sample_files[:2])
    build_index()
    late = _md5_bank(tmp_path, "late", sample_files[2:])  # a new bank, not in the index yet
    rng = random.Random(1)
    pdq = random_hex(rng, 64)
    _pdq_bank(tmp_path, "late-pdq", [pdq])

    md5 = digests(sample_files[3].read_bytes())["md5"]
    assert [m.entry.bank for m in match_hashes(_only("md5", md5)).results[0]] == [late]
    near = match_hashes(_only("pdq", _flip(pdq, 12))).results[0]
    assert [(m.entry.pdq, m.distance) for m in near] == [(pdq, 12)]


def test_a_removed_entry_and_a_disabled_bank_stop_matching_before_any_rebuild(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _md5_bank(tmp_path, "hotline", sample_files)
    other = _md5_bank(tmp_path, "partner", sample_files[:1])
    build_index()
    first = digests(sample_files[0].read_bytes())["md5"]
    second = digests(sample_files[1].read_bytes())["md5"]

    actions.remove_entry(SYSTEM, BankEntry.objects.get(bank=bank, md5=first), reason="benign")
    actions.set_bank_enabled(SYSTEM, other, enabled=False)

    assert match_hashes(_only("md5", first)).results[0] == []
    assert len(match_hashes(_only("md5", second)).results[0]) == 1


def test_a_bank_enabled_after_the_build_matches_from_the_database(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _md5_bank(tmp_path, "dormant", sample_files)
    actions.set_bank_enabled(SYSTEM, bank, enabled=False)
    build_index()  # built without the disabled bank
    actions.set_bank_enabled(SYSTEM, bank, enabled=True)

    md5 = digests(sample_files[0].read_bytes())["md5"]
    assert len(match_hashes(_only("md5", md5)).results[0]) == 1


def test_an_index_built_from_another_database_is_set_aside_and_rebuilt(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    """The index is in DATA_DIR, the banks in the database: a database made anew beside an old
    data directory reuses the ids the index covers. Its entries must still match."""
    from muhafiz.hashbank.tasks import rebuild_index

    bank = _md5_bank(tmp_path, "hotline", sample_files[:1])
    build_index()
    # The database made anew: the same bank id, created at another time, and under the entry id
    # the index covers another hash than the one indexed.
    later = bank.created_at + dt.timedelta(days=1)
    Bank.objects.filter(pk=bank.pk).update(created_at=later)
    other = digests(sample_files[1].read_bytes())["md5"]
    BankEntry.objects.filter(bank=bank).update(md5=other)

    assert [m.entry.bank.pk for m in match_hashes(_only("md5", other)).results[0]] == [bank.pk]
    rebuilt = rebuild_index.call()  # the background build sees the change and builds anew
    assert "generation" in rebuilt
    index = current_index()
    assert index is not None and index.created == {str(bank.pk): later.isoformat()}
    outcome = match_hashes(_only("md5", other))
    assert outcome.index_generation == index.generation
    assert [m.entry.bank.pk for m in outcome.results[0]] == [bank.pk]


def test_pdq_near_matches_are_exact_range_search_up_to_31_bits(tmp_path: Path) -> None:
    rng = random.Random(7)
    stored = [random_hex(rng, 64) for _ in range(50)]
    _pdq_bank(tmp_path, "pdq-bank", stored)
    build_index()

    for bits in (0, 5, 31):
        found = match_hashes(_only("pdq", _flip(stored[10], bits, seed=bits))).results[0]
        assert [(m.entry.pdq, m.distance) for m in found] == [(stored[10], bits)]
    assert match_hashes(_only("pdq", _flip(stored[10], 40))).results[0] == []
    tight = match_hashes(_only("pdq", _flip(stored[10], 20)), max_distance=10).results[0]
    assert tight == []


def test_low_quality_bank_pdq_hashes_are_not_matched(tmp_path: Path) -> None:
    pdq = random_hex(random.Random(8), 64)
    _pdq_bank(tmp_path, "blurry", [pdq], quality=20)
    assert match_hashes(_only("pdq", pdq)).results[0] == []
    build_index()
    assert match_hashes(_only("pdq", pdq)).results[0] == []


def test_a_generated_image_and_its_modified_copy_match_near(tmp_path: Path) -> None:
    original = encode(picture(11))
    copy = encode(modified(Image.open(io.BytesIO(original))), "JPEG")
    known = hash_image(original)
    assert known.pdq is not None
    _pdq_bank(tmp_path, "images", [known.pdq])
    build_index()

    probe = hash_image(copy)
    assert probe.pdq is not None and probe.pdq != known.pdq
    found = match_hashes(_only("pdq", probe.pdq)).results[0]

    assert len(found) == 1 and 0 < found[0].distance <= 31


def test_a_new_build_replaces_the_generation_each_process_maps(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    _md5_bank(tmp_path, "a", sample_files[:1])
    first = build_index()
    _md5_bank(tmp_path, "b", sample_files[1:2])
    second = build_index()

    index = current_index()
    assert index is not None
    assert index.generation == second.generation != first.generation
    assert set(index.bank_ids) == {"a", "b"}
    assert index.max_entry_id == second.max_entry_id


def _vics_bank(tmp_path: Path, files: list[Path]) -> Bank:
    media = []
    for i, p in enumerate(files):
        d = digests(p.read_bytes())
        media.append(
            {
                "MediaID": i + 1,
                "Category": i % 3,
                "MD5": d["md5"],
                "SHA1": d["sha1"],
                "Series": f"series-{i}",
                "VictimIdentified": i % 2 == 0,
                "OffenderIdentified": False,
                "PhotoDNA": "AQID" * 48 if i == 0 else None,
                "AlternativeHashes": [
                    {"HashName": "PDQ", "HashValue": hash_image(p.read_bytes()).pdq}
                ],
            }
        )
    source = tmp_path / "vics.json"
    source.write_text(json.dumps({"@odata.context": VICS_20, "value": media}), encoding="utf-8")
    bank = actions.create_bank(
        SYSTEM,
        name="VIC",
        kind="known-bad",
        category_scheme=CategoryScheme.objects.get(code="projectvic-us"),
    )
    actions.import_hash_list(SYSTEM, bank, source)
    return bank


def _facts(bank: Bank) -> set[tuple[object, ...]]:
    return {
        (e.md5, e.sha1, e.pdq, e.category, e.series, e.victim_identified, e.photodna)
        for e in BankEntry.objects.active().filter(bank=bank)
    }


def test_vics_export_round_trips_into_an_equal_bank(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _vics_bank(tmp_path, sample_files)
    out = tmp_path / "export.json"

    result = export_bank(SYSTEM, bank, "vics", out)
    copy = actions.create_bank(SYSTEM, name="VIC copy", kind="known-bad")
    actions.import_hash_list(SYSTEM, copy, out)

    assert result.written == 5
    assert _facts(copy) == _facts(bank)


def test_pdq_list_export_round_trips(tmp_path: Path) -> None:
    rng = random.Random(9)
    values = [random_hex(rng, 64) for _ in range(6)]
    bank = _pdq_bank(tmp_path, "pdq-source", values, quality=77)
    out = tmp_path / "out.pdq"

    export_bank(SYSTEM, bank, "pdq", out)
    copy = actions.create_bank(SYSTEM, name="pdq copy", kind="watch")
    actions.import_hash_list(SYSTEM, copy, out, fmt="pdq")

    assert set(BankEntry.objects.filter(bank=copy).values_list("pdq", "pdq_quality")) == {
        (v, 77) for v in values
    }


def test_exported_bank_directory_is_what_the_offline_cli_matches(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    bank = _vics_bank(tmp_path, sample_files)
    removed = BankEntry.objects.get(bank=bank, md5=digests(sample_files[4].read_bytes())["md5"])
    actions.remove_entry(SYSTEM, removed, reason="not pertinent")
    out = tmp_path / "export-dir"

    result = export_bank(SYSTEM, bank, "dir", out)
    matcher = Matcher(load_bank_path(out, BankKind.KNOWN_BAD))

    assert result.written == 4
    hit = matcher.match(md5=digests(sample_files[0].read_bytes())["md5"])
    assert len(hit) == 1
    assert (hit[0].bank, hit[0].entry.series, hit[0].entry.photodna) == (
        "VIC",
        "series-0",
        "AQID" * 48,
    )
    assert matcher.match(md5=removed.md5) == []
    with pytest.raises(actions.BankError, match="already exists"):
        export_bank(SYSTEM, bank, "dir", out)


def test_the_background_job_skips_a_build_when_nothing_changed(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    from muhafiz.hashbank.tasks import rebuild_index

    bank = _md5_bank(tmp_path, "hotline", sample_files)
    first = rebuild_index.call()
    second = rebuild_index.call()
    actions.remove_entry(SYSTEM, BankEntry.objects.filter(bank=bank).first(), reason="benign")  # type: ignore[arg-type]
    third = rebuild_index.call()

    assert first["entries"] == 5
    assert second == {"skipped": "index already up to date"}
    assert third["entries"] == 4


def test_a_bank_that_only_grew_is_carried_over_with_a_delta_segment(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    from muhafiz.banks.bankdir import read_manifest

    bank = _md5_bank(tmp_path, "hotline", sample_files[:2])
    first = build_index()
    actions.import_hash_list(
        SYSTEM,
        bank,
        _write_md5s(tmp_path / "more.md5", sample_files[2:]),
    )
    second = build_index()

    assert first.rebuilt == ["hotline"]
    assert second.extended == ["hotline"] and second.entries == 5
    manifest, _ = read_manifest(index_root() / second.generation / f"bank-{bank.pk}")
    assert len(manifest["segments"]) == 2
    md5 = digests(sample_files[4].read_bytes())["md5"]
    index = current_index()
    assert index is not None and index.matcher.match(md5=md5)

    actions.remove_entry(SYSTEM, BankEntry.objects.get(md5=md5), reason="benign")
    third = build_index()
    assert third.rebuilt == ["hotline"] and third.entries == 4
    full = build_index(full=True)
    assert full.rebuilt == ["hotline"]


def _write_md5s(path: Path, files: list[Path]) -> Path:
    path.write_text(
        "".join(f"{digests(p.read_bytes())['md5']}  {p.name}\n" for p in files), encoding="utf-8"
    )
    return path


def test_a_crashed_builds_leftovers_are_cleared_and_a_damaged_index_falls_back(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    import shutil

    from muhafiz.hashbank.index import forget_loaded_index

    _md5_bank(tmp_path, "hotline", sample_files)
    root = index_root()
    root.mkdir(parents=True)
    (root / ".gen-crashed.tmp" / "bank-1").mkdir(parents=True)
    built = build_index()
    assert not (root / ".gen-crashed.tmp").exists()

    shutil.rmtree(root / built.generation)  # someone deleted the live generation
    forget_loaded_index()
    md5 = digests(sample_files[0].read_bytes())["md5"]

    assert current_index() is None
    assert len(match_hashes(_only("md5", md5)).results[0]) == 1  # from the database
    rebuilt = build_index()
    assert rebuilt.rebuilt == ["hotline"]
