"""`muhafiz demo` serves with DEBUG off: the platform's own error pages, no tracebacks, static
files still served (WhiteNoise), unless `--debug` or MUHAFIZ_DEBUG asks otherwise."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from muhafiz.demo.cli import demo_debug


def test_debug_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUHAFIZ_DEBUG", raising=False)
    assert demo_debug(flag=False) == "false"
    assert demo_debug(flag=True) == "true"
    monkeypatch.setenv("MUHAFIZ_DEBUG", "1")
    assert demo_debug(flag=False) == "1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_the_demo_answers_with_its_own_error_pages(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MUHAFIZ_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(MUHAFIZ_PROFILE="development", MUHAFIZ_DATA_DIR=str(tmp_path / "data"))
    server = subprocess.Popen(
        [sys.executable, "-m", "muhafiz", "demo", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "muhafiz demo exited"
            assert time.monotonic() < deadline, "muhafiz demo did not start in time"
            time.sleep(1)
        # A worker runs beside the web server, so that a queued scan runs.
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in children]
        assert [b"-m", b"muhafiz", b"worker"] in [c[1:4] for c in commands]
        status, page = _get(f"{base}/no-such-page/")
        assert status == 404
        assert "There is no page at this address." in page
        assert "URLconf" not in page
        assert "Traceback" not in page
        status, css = _get(f"{base}/static/css/muhafiz.css")
        assert status == 200
        assert css
        status, body = _get(f"{base}/api/v1/no-such-operation")
        assert status == 404
        assert "Traceback" not in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
