"""Reading people: the one lookup of a staff member by username that actions use."""

from __future__ import annotations

from typing import Any

from muhafiz.accounts.models import User


def staff_named(person: Any) -> Any:
    """The active staff member a form or API body names, or None when there is none.

    Actions call it *after* their permission check and refuse None with the answer a refused
    person gets, so nobody without the right learns which usernames exist. A principal (a
    `User` already resolved, or None) is returned as it is.
    """
    if not isinstance(person, str):
        return person
    return User.objects.filter(username=person, is_active=True).first()
