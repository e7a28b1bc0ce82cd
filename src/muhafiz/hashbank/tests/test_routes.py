"""Every hash-bank route declares its access rule (the project-wide rule, checked for ours)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from muhafiz.core.permissions import Perm, rule_of
from muhafiz.hashbank import hma_urls
from muhafiz.hashbank.api import router


def test_every_hma_route_has_an_access_rule() -> None:
    for pattern in hma_urls.urlpatterns:
        assert rule_of(pattern.callback) is not None, pattern.pattern


def test_hma_routes_are_mounted_at_the_site_root() -> None:
    def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for p in patterns:
            if isinstance(p, URLResolver):
                found |= walk(p.url_patterns, prefix + str(p.pattern))
            else:
                found.add(prefix + str(p.pattern))
        return found

    routes = walk(get_resolver().url_patterns)
    assert {"h/hash", "m/raw_lookup", "m/lookup", "c/banks"} <= routes


def test_every_api_operation_has_an_access_rule() -> None:
    rules = {}
    for path, path_view in router.path_operations.items():
        for operation in path_view.operations:
            rules[(path, tuple(operation.methods))] = rule_of(operation.view_func)
    assert rules and all(rule is not None for rule in rules.values()), rules
    assert rules[("/match", ("POST",))] == (Perm.HASH_MATCH,)
    assert rules[("/hash", ("POST",))] == (Perm.HASH_MATCH,)
    assert rules[("/banks", ("GET",))] == (Perm.BANK_VIEW,)
