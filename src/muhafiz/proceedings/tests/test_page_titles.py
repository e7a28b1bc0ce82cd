"""A page's title names the case it is about, in both languages: a filter inside
`blocktranslate` renders nothing ("Proceedings of · Muhafiz"), and an edit page's tab says what
its heading says."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from muhafiz.proceedings import actions
from muhafiz.proceedings.models import StageCode
from muhafiz.proceedings.tests.conftest import CaseFactory, accused_on
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db

FSI, PDI = "\u2068", "\u2069"


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found.group(1)


TITLES = {
    "en": ("Proceedings of {}", "Correct a stage of {}", "Edit A1 in {}"),
    "ur": ("{} کی کارروائی", "{} کے مرحلے کی درستی", None),
}


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_titles_name_the_case(make_case: CaseFactory, people: People, lang: str) -> None:
    stages, correct, edit = TITLES[lang]
    case = make_case(timezone.now() - timedelta(days=30))
    accused_on(case, "A1")
    fir = actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=timezone.now() - timedelta(days=10),
    )
    client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    ref = case.reference if lang == "en" else f"{FSI}{case.reference}{PDI}"
    base = f"/cases/{case.reference}"
    assert _title(client.get(f"{base}/proceedings/").content.decode()).startswith(
        stages.format(ref)
    )
    assert _title(client.get(f"{base}/proceedings/events/{fir.pk}/").content.decode()).startswith(
        correct.format(ref)
    )
    page = client.get(f"{base}/accused/A1/edit/").content.decode()
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert heading is not None
    assert _title(page).startswith(heading.group(1)) and ref in heading.group(1)
    if edit is not None:
        assert heading.group(1) == edit.format(ref)
