"""Test helpers shared by every app: the named people of the permission tests, signed-in clients.

Tests name their people (an investigator in Lahore, one in Kasur, a prosecutor, …) so that each
permission test reads as a sentence. Only tests import this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.catalogue.models import Agency, AgencyKind, District, Province

TEST_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - test-only credential


def test_password_hash() -> str:
    """TEST_PASSWORD hashed once per process and hasher setting: Argon2 is slow on purpose."""
    from django.conf import settings

    return _password_hash(tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _password_hash(hashers: tuple[str, ...]) -> str:
    return make_password(TEST_PASSWORD)


def province(code: str = "PB", name: str = "Punjab") -> Province:
    obj, _ = Province.objects.get_or_create(code=code, defaults={"name": name})
    return obj


def district(code: str, name: str, province_code: str = "PB") -> District:
    prov = province(
        province_code,
        {"PB": "Punjab", "SD": "Sindh", "KP": "Khyber Pakhtunkhwa"}.get(
            province_code, province_code
        ),
    )
    obj, _ = District.objects.get_or_create(code=code, defaults={"name": name, "province": prov})
    return obj


def agency(
    code: str = "PB-POLICE", kind: str = AgencyKind.POLICE, name: str = "Punjab Police"
) -> Agency:
    obj, _ = Agency.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    return obj


def make_user(
    username: str,
    role: str,
    *,
    district_code: str | None = "LHR",
    level: str = JurisdictionLevel.DISTRICT,
    agency_code: str = "PB-POLICE",
    with_totp: bool = True,
) -> User:
    place = None
    if district_code:
        place = district(
            district_code,
            {"LHR": "Lahore", "KSR": "Kasur", "MZG": "Muzaffargarh", "KHI": "Karachi South"}.get(
                district_code, district_code
            ),
            "SD" if district_code == "KHI" else "PB",
        )
    user = User.objects.create(
        username=username,
        password=test_password_hash(),
        role=role,
        agency=agency(agency_code),
        jurisdiction_level=level,
        district=place if level == JurisdictionLevel.DISTRICT else None,
        province=place.province
        if place is not None and level != JurisdictionLevel.NATIONAL
        else None,
    )
    if with_totp:
        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def signed_in(user: User) -> Client:
    """A test client signed in as `user` and past two-factor verification."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@dataclass
class People:
    lahore_investigator: User
    kasur_investigator: User
    lahore_supervisor: User
    prosecutor: User
    forensic_examiner: User
    child_protection_officer: User
    register_officer: User
    station_officer: User  # police station officer, Lahore: verifies registrants
    employer: User  # a school's vetting officer: the register's yes/no answer only
    analyst: User
    auditor: User
    administrator: User
    outsider: User  # signed up but holding no role
    helpline_officer: User  # answers 1099 in Lahore: records calls, sees no queue


def make_people() -> People:
    return People(
        lahore_investigator=make_user("inv.lahore", Role.INVESTIGATOR, district_code="LHR"),
        kasur_investigator=make_user("inv.kasur", Role.INVESTIGATOR, district_code="KSR"),
        lahore_supervisor=make_user("sup.lahore", Role.SUPERVISOR, district_code="LHR"),
        prosecutor=make_user("pros.lahore", Role.PROSECUTOR, district_code="LHR"),
        forensic_examiner=make_user(
            "forensic.punjab",
            Role.FORENSIC_EXAMINER,
            district_code="LHR",
            level=JurisdictionLevel.PROVINCE,
        ),
        child_protection_officer=make_user(
            "cpo.lahore", Role.CHILD_PROTECTION_OFFICER, district_code="LHR"
        ),
        register_officer=make_user(
            "npb.register",
            Role.REGISTER_OFFICER,
            district_code=None,
            level=JurisdictionLevel.NATIONAL,
        ),
        station_officer=make_user(
            "station.lahore", Role.POLICE_STATION_OFFICER, district_code="LHR"
        ),
        employer=make_user("employer.school", Role.EMPLOYER, district_code="LHR"),
        analyst=make_user(
            "analyst", Role.ANALYST, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        auditor=make_user(
            "auditor", Role.AUDITOR, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        administrator=make_user(
            "admin", Role.ADMINISTRATOR, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        outsider=make_user("outsider", "", district_code="LHR"),
        helpline_officer=make_user("helpline.lahore", Role.HELPLINE_OFFICER, district_code="LHR"),
    )


# --- API clients ------------------------------------------------------------------------------


def make_api_client(
    profile: str,
    *,
    name: str = "",
    level: str = JurisdictionLevel.NATIONAL,
    district_code: str | None = None,
    agency_code: str = "PB-POLICE",
    approved: bool = True,
) -> tuple[Any, str]:
    """An API client holding `profile` (approved by a second person when the profile needs it,
    unless `approved` is False); returns it with its bearer token."""
    from django.utils import timezone

    from muhafiz.accounts.models import ApiClient
    from muhafiz.accounts.tokens import new_token
    from muhafiz.core.permissions import CLIENT_PROFILES

    spec = CLIENT_PROFILES[profile]
    token, prefix, digest = new_token()
    place = None
    if district_code:
        place = district(
            district_code,
            {"LHR": "Lahore", "KSR": "Kasur"}.get(district_code, district_code),
            "SD" if district_code == "KHI" else "PB",
        )
    client = ApiClient.objects.create(
        name=name or f"{profile}-{prefix}",
        agency=agency(agency_code),
        profile=profile,
        scopes=sorted(p.value for p in spec.perms),
        token_prefix=prefix,
        token_hash=digest,
        jurisdiction_level=level,
        district=place if level == JurisdictionLevel.DISTRICT else None,
        province=place.province
        if place is not None and level != JurisdictionLevel.NATIONAL
        else None,
        approved_at=timezone.now() if approved and spec.needs_approval else None,
    )
    return client, token


def bearer(token: str) -> Client:
    """A test client that sends `token` as its bearer token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


# --- sign-in helpers ------------------------------------------------------------------------


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code an authenticator app linked to `device` shows now (or `offset_steps` later)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def device_of(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


# --- the route map, as the route-rule tests walk it ---------------------------------------------


@dataclass(frozen=True)
class UrlRoute:
    route: str  # the pattern as written, e.g. "accounts/users/<int:pk>/"
    name: str  # namespaced URL name, or "" when the pattern has none
    view: Any
    sample_path: str  # a concrete path that resolves to this route

    @property
    def is_api(self) -> bool:
        return getattr(self.view, "__module__", "").startswith("ninja.") and self.view_rule is None

    @property
    def view_rule(self) -> Any:
        from muhafiz.core.permissions import rule_of

        return rule_of(self.view)


@dataclass(frozen=True)
class ApiOperation:
    path: str  # e.g. "/api/v1/accounts/me"
    methods: tuple[str, ...]
    view_func: Any

    @property
    def rule(self) -> Any:
        return getattr(self.view_func, "access_rule", None)

    @property
    def sample_path(self) -> str:
        return _sample_path(self.path)


_SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def _sample_path(route: str) -> str:
    import re

    def sample(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return _SAMPLES.get(converter, "1")

    route = re.sub(r"<(?:(\w+):)?\w+>", sample, route)
    route = re.sub(r"\{(?:(\w+):)?\w+\}", sample, route)
    # Regular-expression patterns: named groups become a digit, anchors go.
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return "/" + route.replace("^", "").replace("$", "").lstrip("/")


def url_routes(
    patterns: list[Any] | None = None, prefix: str = "", namespace: str = ""
) -> list[UrlRoute]:
    """Every URL pattern of the project (or of `patterns`), with included URL modules walked."""
    from django.urls import URLPattern, URLResolver, get_resolver

    if patterns is None:
        patterns = list(get_resolver().url_patterns)
    found: list[UrlRoute] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_ns = namespace
            if entry.namespace:
                inner_ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found += url_routes(list(entry.url_patterns), prefix + str(entry.pattern), inner_ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            found.append(UrlRoute(route, name, entry.callback, _sample_path(route)))
    return found


def api_operations(api: Any = None, mount: str = "/api/") -> list[ApiOperation]:
    """Every operation of the Ninja API, with its full path and HTTP methods."""
    from ninja.utils import normalize_path

    if api is None:
        import muhafiz.urls  # noqa: F401 - builds and binds the API's routers
        from muhafiz.core.api import api as project_api

        api = project_api
    found: list[ApiOperation] = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            # The same joining as Ninja's own URL patterns, trailing slash included.
            route = normalize_path("/".join(p for p in (bound.prefix, path) if p)).lstrip("/")
            full = mount.rstrip("/") + "/" + route
            for operation in path_view.operations:
                found.append(ApiOperation(full, tuple(operation.methods), operation.view_func))
    return found


def drain_job_queues(monkeypatch: Any) -> None:
    """Run one worker in this process until the job queues are empty (tests; `monkeypatch` is
    pytest's).

    Inside the test's transaction the worker must not close the connection between tasks
    (it would end the transaction that holds the test's data). On RQ the worker runs each job in
    this process too (RQ's SimpleWorker does not fork).
    """
    from django_tasks_db.management.commands import db_worker

    from muhafiz.core.jobs import uses_rq

    if uses_rq():
        import django_rq
        from django.conf import settings

        from muhafiz.core.jobs_rq import Job, SimpleWorker

        queues = [django_rq.get_queue(name, job_class=Job) for name in settings.TASK_QUEUES]
        SimpleWorker(queues, connection=django_rq.get_connection(), job_class=Job).work(burst=True)
        return
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="in-process",
        excluded_queue_names=[],
    ).run()


def generate_scan_source(
    root: Any, files: int, *, file_bytes: int = 1024, images: int = 0, per_folder: int = 100
) -> int:
    """A folder for server-scan tests and benchmarks: `files` small files of about `file_bytes`
    bytes in nested folders (every 40th a copy of an earlier one, for duplicate groups) and
    `images` benign pictures (some near-copies, for PDQ clusters); returns the bytes written."""
    import hashlib
    from pathlib import Path

    from muhafiz.demo.media import noise_image

    base = Path(root)
    total = 0
    block = hashlib.sha256(b"muhafiz scan source").digest() * (file_bytes // 32 + 1)
    for number in range(files):
        folder = base / f"d{number // (per_folder * 10):03d}" / f"e{number // per_folder % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        seed = number - number % 40 if number % 40 == 39 else number
        body = f"file {seed}\n".encode() + block[:file_bytes]
        (folder / f"f{number:06d}.txt").write_bytes(body)
        total += len(body)
    for number in range(images):
        folder = base / "pictures" / f"p{number // 10}"
        folder.mkdir(parents=True, exist_ok=True)
        picture = noise_image(number // 2, size=160)  # pairs of near-copies
        picture.save(folder / f"img{number:04d}.png")
        total += (folder / f"img{number:04d}.png").stat().st_size
    return total


def database_url_for_workers() -> str:
    """The URL of the database this test runs on, for worker processes started by a test."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
