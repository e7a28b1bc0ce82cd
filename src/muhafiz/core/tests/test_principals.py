"""Principals of different kinds never compare equal: user #1 and API client #1 are strangers."""

from __future__ import annotations

from types import SimpleNamespace

from muhafiz.core.permissions import (
    PrincipalKind,
    Scope,
    is_team_member,
    same_principal,
    user_pk,
)


def _user(pk: int) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, principal_kind=PrincipalKind.USER)


def _client(pk: int) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, principal_kind=PrincipalKind.CLIENT)


def test_a_user_and_a_client_with_the_same_id_are_not_the_same_principal() -> None:
    assert same_principal(_user(1), _user(1))
    assert same_principal(_client(1), _client(1))
    assert not same_principal(_user(1), _client(1))
    assert not same_principal(_client(1), _user(1))


def test_something_that_does_not_say_its_kind_is_no_one() -> None:
    nobody = SimpleNamespace(pk=1)
    assert not same_principal(nobody, nobody)
    assert user_pk(nobody) is None
    assert not is_team_member(nobody, Scope(team_user_ids=frozenset({1})))


def test_only_a_user_is_on_a_team() -> None:
    scope = Scope(team_user_ids=frozenset({1}))
    assert is_team_member(_user(1), scope)
    assert not is_team_member(_client(1), scope)
    assert user_pk(_client(1)) is None
