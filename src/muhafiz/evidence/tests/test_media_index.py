"""The standing cross-case PDQ index: a new scan is linked through it (only rows imported since
its last extension come from the database), it is extended after each analysis, merges its
segments, and a missing or stale index is slower, never wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from muhafiz.banks.index.pdq import hex_to_words
from muhafiz.cases.models import Alert, AlertKind, Case
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions, media_index
from muhafiz.evidence.models import CaseLink, LinkKind, MediaFile
from muhafiz.evidence.tasks import analyse_scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People

pytestmark = pytest.mark.django_db


def _import_and_analyse(actor: object, case: Case, scan_file: Path) -> int:
    scan = actions.import_uploaded_scan(actor, case, upload_of(scan_file))
    analyse_scan.call(scan.pk)
    return scan.pk


def test_a_near_copy_is_linked_through_the_standing_index(
    people: People,
    lahore_case: Case,
    kasur_case: Case,
    two_devices: tuple[Path, Path],
    make_scan: Callable[[Path, str], Path],
) -> None:
    lahore_device, kasur_device = two_devices
    lahore = _import_and_analyse(
        people.lahore_investigator, lahore_case, make_scan(lahore_device, "lahore")
    )
    index = media_index.current_media_index()
    lahore_rows = media_index.indexable().filter(scan_id=lahore)
    assert index.size == lahore_rows.count() == 3  # the three pictures; the text file has no PDQ
    assert index.upto == max(lahore_rows.values_list("pk", flat=True))

    _import_and_analyse(people.kasur_investigator, kasur_case, make_scan(kasur_device, "kasur"))
    # Every Lahore row was in the index when Kasur was linked: none came from the database.
    kinds = set(CaseLink.objects.values_list("kind", flat=True))
    assert kinds == {LinkKind.SHA256, LinkKind.PDQ}
    for user in (people.lahore_investigator, people.kasur_investigator):
        assert Alert.objects.filter(recipient=user, kind=AlertKind.CROSS_CASE_LINK).count() == 2
    assert media_index.current_media_index().size == 6  # Kasur's three pictures added


def test_without_an_index_the_same_links_come_from_the_database(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    kasur_case: Case,
    two_devices: tuple[Path, Path],
    make_scan: Callable[[Path, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lahore_device, kasur_device = two_devices
    monkeypatch.setattr(media_index, "extend_media_index", lambda: media_index.EMPTY)
    _import_and_analyse(people.lahore_investigator, lahore_case, make_scan(lahore_device, "l"))
    assert media_index.current_media_index().size == 0
    _import_and_analyse(people.kasur_investigator, kasur_case, make_scan(kasur_device, "k"))
    assert set(CaseLink.objects.values_list("kind", flat=True)) == {
        LinkKind.SHA256,
        LinkKind.PDQ,
    }


def test_segments_are_merged_and_searches_find_the_same_rows(
    people: People,
    lahore_case: Case,
    sources: Path,
    make_scan: Callable[[Path, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(media_index, "MAX_SEGMENTS", 2)
    for n in range(4):
        device = sources / f"card-{n}"
        device.mkdir()
        noise_image(100 + n).save(device / "a.png")
        _import_and_analyse(people.lahore_investigator, lahore_case, make_scan(device, f"c{n}"))
        assert len(media_index.current_media_index().segments) <= 2
    index = media_index.current_media_index()
    assert index.size == 4
    stored = list(MediaFile.objects.exclude(pdq="").order_by("pk").values_list("pk", "pdq"))
    queries = hex_to_words([pdq for _pk, pdq in stored])
    found = {(position, media) for position, media, distance in index.search(queries, 0)}
    assert found == {(i, pk) for i, (pk, _pdq) in enumerate(stored)}
    folders = {path.name for path in media_index.index_root().glob("segment-*")}
    assert len(folders) == len(index.segments)  # merged segments are removed
