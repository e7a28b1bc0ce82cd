"""`muhafiz serve` on PostgreSQL in the production profile: gunicorn answers /healthz and a
signed-in page, reloads on HUP, logs no query strings; it refuses an unmigrated database, naming the
command to run; `muhafiz migrate` brings the schema up to date once."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from muhafiz.ops.web import ACCESS_LOG_FORMAT, WebServer, default_workers

pytestmark = pytest.mark.slow

POSTGRES = "postgres://postgres@127.0.0.1:5432"


def test_the_worker_count_follows_the_cores() -> None:
    assert default_workers(1) == 3
    assert default_workers(2) == 5
    assert default_workers(64) == 17


def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUHAFIZ_WEB_WORKERS", "7")
    monkeypatch.setenv("MUHAFIZ_WEB_THREADS", "1")
    server = WebServer.from_environment(workers=3)
    assert (server.workers, server.threads) == (3, 1)
    argv = server.argv()
    assert argv[argv.index("--worker-class") + 1] == "sync"
    assert argv[-1] == "muhafiz.wsgi:application"


def test_the_access_log_format_has_no_query_string_or_referrer() -> None:
    assert "%(U)s" in ACCESS_LOG_FORMAT
    for field in ("%(r)s", "%(q)s", "%(f)s", "%(a)s"):
        assert field not in ACCESS_LOG_FORMAT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def database() -> Iterator[str]:
    name = f"muhafiz_serve_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MUHAFIZ_", "DJANGO_", "REDIS_URL")) and key != "DATABASE_URL"
    }
    return env | {
        "MUHAFIZ_PROFILE": "production",
        "MUHAFIZ_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "MUHAFIZ_SECRET_KEY": secrets.token_hex(32),
        "MUHAFIZ_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "MUHAFIZ_ALLOWED_HOSTS": "127.0.0.1",
        # The proxy in front terminates TLS and says so (docs/deploy.md); here the test is it.
        "MUHAFIZ_SSL_REDIRECT": "false",
        "MUHAFIZ_WEB_WORKERS": "2",
    }


def _muhafiz(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "muhafiz", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _get(url: str, cookies: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    if cookies:
        request.add_header("Cookie", cookies)
    try:
        with _opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


SIGN_IN = """
from muhafiz.core.cli import setup_django
setup_django()
from muhafiz.accounts.roles import Role
from muhafiz.testing import make_user, signed_in
user = make_user("inv.lahore", Role.INVESTIGATOR, district_code="LHR")
print(signed_in(user).cookies["sessionid"].value)
"""


def test_serve_refuses_an_unmigrated_database_then_serves_with_gunicorn(
    database: str, tmp_path: Path
) -> None:
    env = _environment(database, tmp_path / "data")
    port = _free_port()

    refused = _muhafiz(env, "serve", "--bind", f"127.0.0.1:{port}")
    assert refused.returncode == 1
    assert "schema is not current" in refused.stderr
    assert "Run `muhafiz migrate`" in refused.stderr
    refused = _muhafiz(env, "worker", "--batch")
    assert refused.returncode == 1
    assert "Run `muhafiz migrate`" in refused.stderr

    migrated = _muhafiz(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "schema is current" in migrated.stdout
    static = _muhafiz(env, "manage", "collectstatic", "--no-input", "-v", "0")
    assert static.returncode == 0, static.stderr
    session = subprocess.run(
        [sys.executable, "-c", SIGN_IN], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()

    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "muhafiz", "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(f"{base}/healthz?probe=secret-query")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        master = server.pid  # `muhafiz serve` became the gunicorn master (exec)
        assert "gunicorn" in Path(f"/proc/{master}/cmdline").read_text()

        status, page = _get(f"{base}/cases/?q=secret-query", f"sessionid={session}")
        assert status == 200, page
        assert 'lang="en"' in page
        assert "inv.lahore" in page
        status, _ = _get(f"{base}/cases/")
        assert status == 302  # not signed in: to the sign-in page
        status, css = _get(f"{base}/static/css/muhafiz.css")
        assert (status, bool(css)) == (200, True)

        # A graceful reload: new workers, same master, still answering.
        os.kill(master, signal.SIGHUP)
        time.sleep(3)
        assert server.poll() is None
        assert _get(f"{base}/healthz")[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text()
    assert '"GET /cases/ HTTP/1.1" 200' in text
    assert "Handling signal: hup" in text.lower() or "hang up" in text.lower()
    assert "secret-query" not in text
