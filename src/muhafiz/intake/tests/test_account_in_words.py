"""A CyberTipline referral's summary in the reader's language (issue 15, item 13): the import
keeps it as messages with their values, so an Urdu reader sees Urdu on the page and through the
API, with the referral's own data (platform, place, counts, time) isolated inside the Urdu text;
the English summary stays as the stored account; a summary stored before (plain English text)
and an account a person wrote read as stored. Referrals are synthetic, generated here."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings

from muhafiz.core.permissions import SYSTEM
from muhafiz.intake import actions
from muhafiz.intake.models import Report
from muhafiz.intake.tests.synthetic_tips import SyntheticTip, write_xml
from muhafiz.testing import signed_in

pytestmark = pytest.mark.django_db


def _import(*tips: SyntheticTip) -> None:
    text = io.StringIO()
    write_xml(text, list(tips))
    actions.import_cybertips(SYSTEM, io.BytesIO(text.getvalue().encode()), name="batch.xml")


@pytest.fixture
def referral(people: Any) -> Report:
    _import(SyntheticTip("9200001", screen_name="blue_kite", ips=["203.0.113.9"], city="Lahore"))
    return Report.objects.get(cybertip__report_id_ncmec="9200001")


def test_the_stored_account_is_the_english_summary(referral: Report) -> None:
    lines = referral.account.splitlines()
    assert lines[0].startswith("CyberTipline report 9200001: Child Pornography")
    assert "Files: 0; IP capture events: 1" in lines
    assert lines[-1] == "Estimated location: Lahore, PK"
    assert referral.account_lines  # the messages, kept encrypted as the account is


def test_the_page_shows_the_summary_in_urdu_with_its_data_isolated(
    people: Any, referral: Report, nccia_investigator: Any
) -> None:
    client = signed_in(nccia_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = client.get(f"/intake/reports/{referral.reference}/")
    assert response.status_code == 200
    html = response.content.decode()
    account = html.split('id="report-account"')[1].split(">", 1)[1].split("</p>", maxsplit=1)[0]
    assert "اندازاً مقام: <bdi>Lahore, PK</bdi>" in account
    assert "سائبر ٹپ لائن رپورٹ <bdi>9200001</bdi>:" in account
    assert "فائلیں: <bdi>0</bdi>؛ آئی پی ریکارڈ: <bdi>1</bdi>" in account
    assert "Estimated location" not in account and "Reported by" not in account
    english = signed_in(nccia_investigator).get(f"/intake/reports/{referral.reference}/")
    assert "Estimated location: <bdi>Lahore, PK</bdi>" in english.content.decode()


def test_the_api_gives_the_summary_in_the_requests_language(
    people: Any, referral: Report, nccia_investigator: Any
) -> None:
    client = signed_in(nccia_investigator)
    urdu = client.get(f"/api/v1/intake/reports/{referral.reference}", HTTP_ACCEPT_LANGUAGE="ur")
    assert urdu.status_code == 200
    body = urdu.json()
    # The value is isolated in a right-to-left language (core.words).
    assert body["account_in_words"].splitlines()[-1] == "اندازاً مقام: \u2068Lahore, PK\u2069"
    assert body["account"].splitlines()[-1] == "Estimated location: Lahore, PK"  # as stored
    english = client.get(f"/api/v1/intake/reports/{referral.reference}").json()
    assert english["account_in_words"] == english["account"]


def test_a_missing_place_and_platform_read_not_given_in_each_language(
    people: Any, nccia_investigator: Any
) -> None:
    _import(SyntheticTip("9200002", screen_name="x", country=""))
    report = Report.objects.get(cybertip__report_id_ncmec="9200002")
    assert report.account.splitlines()[-1] == "Estimated location: not given"
    from django.utils.translation import override

    with override("ur"):
        assert (
            report.account_in_words().splitlines()[-1] == "اندازاً مقام: \u2068نہیں بتایا گیا\u2069"
        )


def test_an_older_summary_and_a_written_account_read_as_stored(
    referral: Report, nccia_investigator: Any
) -> None:
    # A referral imported before the messages were kept: its English text is shown, escaped.
    Report.objects.filter(pk=referral.pk).update(account_lines="")
    referral.refresh_from_db()
    referral.account = "Estimated location: <Lahore>\nline two"
    from django.utils.translation import override

    with override("ur"):
        assert referral.account_in_words() == referral.account
        assert referral.account_html() == "Estimated location: &lt;Lahore&gt;<br>line two"
