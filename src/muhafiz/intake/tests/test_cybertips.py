"""CyberTipline import: a synthetic XML batch (generated here) imports, again adds nothing, a
malformed referral is named while the others import, shared IPs and screen names make one
cluster, routing follows the estimated location, and a file hash in a case alerts its team."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Alert, AlertKind
from muhafiz.core.permissions import SYSTEM
from muhafiz.intake import actions
from muhafiz.intake.models import CyberTip, IpCaptureEvent, Report, TipCluster, TipMatch
from muhafiz.intake.tests.synthetic_tips import SyntheticTip, sha256, write_xml
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db

BLOB = b"benign synthetic test bytes: a grey square"


def _xml(tips: list[SyntheticTip]) -> io.BytesIO:
    text = io.StringIO()
    write_xml(text, tips)
    return io.BytesIO(text.getvalue().encode())


def _batch() -> list[SyntheticTip]:
    return [
        SyntheticTip("9100001", screen_name="shadow_fox", ips=["203.0.113.5"], city="Lahore"),
        SyntheticTip("9100002", screen_name="other_one", ips=["203.0.113.5"], city="Pindi"),
        SyntheticTip("9100003", screen_name="SHADOW_FOX", city="Karachi", region="Sindh"),
        SyntheticTip("9100004", screen_name="lonely", city="Delhi", country="IN"),
        SyntheticTip("9100005", screen_name="bad", bad_date=True, city="Lahore"),
        SyntheticTip("9100006", screen_name="proxy_user", proxy_ips=["203.0.113.5"], city="Kasur"),
    ]


def test_a_batch_imports_routes_clusters_and_reimports_nothing(people: People) -> None:
    result = actions.import_cybertips(SYSTEM, _xml(_batch()), name="batch-1.xml")
    assert result.imported == 5 and result.already_imported == 0
    assert len(result.refused) == 1
    assert result.refused[0].startswith("report 9100005: incidentDateTime 'yesterday'")
    assert not CyberTip.objects.filter(report_id_ncmec="9100005").exists()

    def district(report_id: str) -> str | None:
        report = Report.objects.select_related("district").get(cybertip__report_id_ncmec=report_id)
        return report.district.code if report.district is not None else None

    assert district("9100001") == "LHR"
    assert district("9100002") == "RWP"  # through the gazetteer's other spellings
    assert district("9100003") is None  # Karachi is five districts: the national queue
    assert district("9100004") is None  # outside Pakistan
    assert district("9100006") == "KSR"

    def cluster(report_id: str) -> int | None:
        return CyberTip.objects.get(report_id_ncmec=report_id).cluster_id

    # 1 and 2 share an IP, 1 and 3 a screen name (any case): one cluster of three.
    assert cluster("9100001") == cluster("9100002") == cluster("9100003")
    assert TipCluster.objects.get(pk=cluster("9100001") or 0).size == 3
    assert cluster("9100004") != cluster("9100001")
    # An IP the platform flagged as a possible proxy joins nobody.
    assert cluster("9100006") != cluster("9100001")
    # The victim's details in a referral are not read; file contents never exist here.
    assert "NotImported" not in repr(list(Report.objects.values()))
    assert IpCaptureEvent.objects.filter(ip_address="203.0.113.5").count() == 3

    again = actions.import_cybertips(SYSTEM, _xml(_batch()), name="batch-1.xml")
    assert again.imported == 0 and again.already_imported == 5
    assert CyberTip.objects.count() == 5
    assert AuditEvent.objects.filter(action="intake.report.cybertip").count() == 5
    assert AuditEvent.objects.filter(action="intake.cybertips.import").count() == 2


def test_a_referral_bridging_two_clusters_merges_them(people: People) -> None:
    actions.import_cybertips(
        SYSTEM,
        _xml(
            [
                SyntheticTip("1", screen_name="aa", city="Lahore"),
                SyntheticTip("2", device="3569", city="Lahore"),
            ]
        ),
    )
    assert TipCluster.objects.count() == 2
    actions.import_cybertips(SYSTEM, _xml([SyntheticTip("3", screen_name="aa", device="3569")]))
    assert TipCluster.objects.count() == 1
    assert TipCluster.objects.get().size == 3


def test_a_file_hash_in_a_case_alerts_that_cases_team_with_the_referral_id(
    people: People, lahore_case: Any
) -> None:
    from muhafiz.evidence.models import MediaFile, Scan

    scan = Scan.objects.create(case=lahore_case, origin="upload", status="done")
    MediaFile.objects.create(
        scan=scan, case=lahore_case, source_id=1, path="DCIM/x.jpg", sha256=sha256(BLOB)
    )
    result = actions.import_cybertips(
        SYSTEM, _xml([SyntheticTip("7700001", file_blobs=[BLOB], city="Kasur")])
    )
    assert result.matches == 1 and result.alerts >= 1
    match = TipMatch.objects.get()
    assert (match.kind, match.case_id) == ("evidence", lahore_case.pk)
    alerts = Alert.objects.filter(kind=AlertKind.REPORT_MATCH, case=lahore_case)
    assert set(alerts.values_list("recipient__username", flat=True)) >= {"inv.lahore"}
    assert all("7700001" in a.text() and "upload_" not in a.text() for a in alerts)
    # Importing it again alerts nobody twice.
    actions.import_cybertips(SYSTEM, _xml([SyntheticTip("7700001", file_blobs=[BLOB])]))
    assert Alert.objects.filter(kind=AlertKind.REPORT_MATCH).count() == alerts.count()


def test_a_screen_name_of_an_accused_alerts_that_cases_team(
    people: People, lahore_case: Any
) -> None:
    from muhafiz.cases import actions as cases

    cases.add_accused(
        people.lahore_investigator,
        lahore_case,
        cases.AccusedDetails(name="Accused Testname", handles=["night_owl_77"]),
    )
    actions.import_cybertips(SYSTEM, _xml([SyntheticTip("7700002", screen_name="Night_Owl_77")]))
    match = TipMatch.objects.get()
    assert (match.kind, match.case_id) == ("accused", lahore_case.pk)


def test_an_e_mail_of_an_accused_alerts_that_cases_team(people: People, lahore_case: Any) -> None:
    from muhafiz.cases import actions as cases
    from muhafiz.cases.models import AccusedIdentifier

    cases.add_accused(
        people.lahore_investigator,
        lahore_case,
        cases.AccusedDetails(name="Accused Testname", emails=["Night.Owl@Example.org"]),
    )
    # Kept encrypted and blind-indexed like a phone or a handle, lower case.
    stored = AccusedIdentifier.objects.get(kind="email")
    assert stored.value == "night.owl@example.org" and stored.value_index
    with connection.cursor() as cursor:  # the column holds ciphertext only
        table = AccusedIdentifier._meta.db_table
        cursor.execute(f"SELECT value FROM {table}")  # noqa: S608 - a model's table name
        assert "night.owl" not in repr(cursor.fetchall())
    actions.import_cybertips(
        SYSTEM, _xml([SyntheticTip("7700003", email=" NIGHT.OWL@example.ORG ", city="Kasur")])
    )
    match = TipMatch.objects.get()
    assert (match.kind, match.case_id) == ("accused", lahore_case.pk)
    assert match.detail == "email of accused A1"
    alerts = Alert.objects.filter(kind=AlertKind.REPORT_MATCH, case=lahore_case)
    assert alerts.exists() and all("night.owl" not in a.text() for a in alerts)


def test_a_broken_file_keeps_what_came_before_and_says_where(people: People) -> None:
    text = io.StringIO()
    write_xml(text, [SyntheticTip("5500001", city="Lahore")])
    broken = text.getvalue().replace("</reports>", "<report><reportId>5500002</rep")
    result = actions.import_cybertips(SYSTEM, io.BytesIO(broken.encode()))
    assert result.imported == 1
    assert "cannot be read on after report 1" in result.file_error


def test_an_entity_bomb_is_refused(people: People) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        b"<reports><report>&a;</report></reports>"
    )
    result = actions.import_cybertips(SYSTEM, io.BytesIO(bomb))
    assert result.imported == 0 and result.file_error


def test_csv_referrals_import_too(people: People) -> None:
    csv_text = (
        "report_id,incident_type,incident_date_time,screen_names,ip_capture_events,city,files\n"
        "8800001,Online Enticement of Children for Sexual Act,2026-11-01T10:00:00+05:00,"
        'kite_runner,203.0.113.9|Login|2026-11-01T08:00:00Z|443|false,Multan,"MD5:'
        + "a"
        * 32
        + '|pic.jpg|B1"\n'
        "8800002,,not a date,,,,\n"
    )
    result = actions.import_cybertips(SYSTEM, io.BytesIO(csv_text.encode()), name="partner.csv")
    assert result.imported == 1
    assert result.refused == [
        "report 8800002: incident_date_time 'not a date' is not an ISO 8601 date and time"
    ]
    report = Report.objects.get()
    assert report.district is not None and report.district.code == "MLT"
    assert report.concern == "grooming"


def test_only_the_national_desk_or_the_system_imports(
    people: People, nccia_investigator: Any
) -> None:
    with pytest.raises(PermissionDenied):
        actions.import_cybertips(people.lahore_investigator, _xml(_batch()))
    assert actions.import_cybertips(nccia_investigator, _xml(_batch()[:1])).imported == 1


def test_the_api_upload_and_the_cluster_ip_export(people: People, nccia_investigator: Any) -> None:
    client = signed_in(nccia_investigator)
    upload = io.BytesIO(_xml(_batch()).getvalue())
    upload.name = "batch.xml"
    response = client.post("/api/v1/intake/cybertips", {"file": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["imported"] == 5 and len(body["refused"]) == 1
    cluster = CyberTip.objects.get(report_id_ncmec="9100001").cluster_id
    events = client.get(f"/api/v1/intake/clusters/{cluster}/ip-events").json()
    assert {e["cybertipline_report"] for e in events} == {"9100001", "9100002"}
    csv_page = client.get(f"/intake/clusters/{cluster}/ip-events.csv")
    assert csv_page.status_code == 200 and b"203.0.113.5" in csv_page.content
    assert AuditEvent.objects.filter(action="intake.cluster.ip_export").count() == 2
    # A Lahore investigator sees the cluster's Lahore referral only; Kasur sees no cluster.
    lahore = signed_in(people.lahore_investigator).get(
        f"/api/v1/intake/clusters/{cluster}/ip-events"
    )
    assert {e["cybertipline_report"] for e in lahore.json()} == {"9100001"}
    kasur = signed_in(people.kasur_investigator).get(f"/api/v1/intake/clusters/{cluster}/ip-events")
    assert kasur.status_code == 404
    refused = signed_in(people.lahore_investigator).post(
        "/api/v1/intake/cybertips", {"file": io.BytesIO(b"<reports/>")}
    )
    assert refused.status_code == 403


def test_the_command_imports_a_file_or_a_folder(people: People, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from muhafiz.cli import main

    (tmp_path / "a.xml").write_bytes(_xml(_batch()[:2]).getvalue())
    (tmp_path / "b.xml").write_bytes(_xml(_batch()[2:]).getvalue())
    result = CliRunner().invoke(main, ["intake", "import-cybertips", str(tmp_path)])
    assert result.exit_code == 1, result.output  # one referral refused: exit 1, named
    assert "report 9100005" in result.output
    assert CyberTip.objects.count() == 5
    again = CliRunner().invoke(main, ["intake", "import-cybertips", str(tmp_path / "a.xml")])
    assert again.exit_code == 0 and "0 imported, 2 already imported" in again.output


def test_the_command_acts_as_muhafiz_operator(
    people: People, nccia_investigator: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from muhafiz.cli import main

    (tmp_path / "a.xml").write_bytes(_xml(_batch()[:2]).getvalue())
    # A district investigator may not import referrals for the whole country: refused, nothing
    # written, nothing audited as an import.
    monkeypatch.setenv("MUHAFIZ_OPERATOR", people.lahore_investigator.username)
    refused = CliRunner().invoke(main, ["intake", "import-cybertips", str(tmp_path / "a.xml")])
    assert refused.exit_code == 1 and "may not import referrals" in refused.output
    assert "intake.handle" in refused.output
    assert not CyberTip.objects.exists()
    assert not AuditEvent.objects.filter(action="intake.cybertips.import").exists()

    monkeypatch.setenv("MUHAFIZ_OPERATOR", "nobody.here")
    unknown = CliRunner().invoke(main, ["intake", "import-cybertips", str(tmp_path / "a.xml")])
    assert unknown.exit_code == 1 and "is not an active user" in unknown.output

    # The NCCIA desk may: the audit names the person, not the system.
    monkeypatch.setenv("MUHAFIZ_OPERATOR", nccia_investigator.username)
    done = CliRunner().invoke(main, ["intake", "import-cybertips", str(tmp_path / "a.xml")])
    assert done.exit_code == 0, done.output
    assert CyberTip.objects.count() == 2
    imports = AuditEvent.objects.filter(action="intake.cybertips.import")
    assert [e.actor_user_id for e in imports] == [nccia_investigator.pk]
    per_referral = AuditEvent.objects.filter(action="intake.report.cybertip")
    assert {e.actor_user_id for e in per_referral} == {nccia_investigator.pk}
