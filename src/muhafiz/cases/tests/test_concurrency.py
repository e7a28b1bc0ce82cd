"""References stay unique when several people open cases in one district at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone

from muhafiz.cases import actions
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency, District
from muhafiz.testing import make_user


@pytest.mark.django_db(transaction=True)
def test_concurrent_cases_in_one_district_get_distinct_references(
    flushable_audit: None, settings: object
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    investigator = make_user("inv.race", "investigator", district_code="LHR")
    lahore = District.objects.get(code="LHR")
    police = Agency.objects.get(code="PB-POLICE")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_cases() -> None:
        try:
            start.wait()
            for _ in range(3):
                actions.create_case(
                    investigator, district=lahore, agency=police, reported_at=timezone.now()
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_cases) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == 12
    assert len(set(references)) == 12
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in references)
    assert numbers == list(range(1, 13))
