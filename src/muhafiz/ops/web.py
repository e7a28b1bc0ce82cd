"""The production web server: gunicorn running `muhafiz.wsgi:application`.

`muhafiz serve` checks the schema and the system checks, then replaces itself with a gunicorn
master (same process id, so systemd's `ExecReload=kill -HUP $MAINPID` reloads it gracefully: new
workers with the new code start, old ones finish their requests). The master imports no Django,
so a reload picks up an upgraded installation; each worker loads the application itself.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from muhafiz.core.env import env_int, env_str

# Combined log format without the query string (`%(U)s` is the path alone; `%(r)s`, the request
# line, and `%(f)s`, the referrer, would carry `?q=` searches) and without the user agent.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
APPLICATION = "muhafiz.wsgi:application"


def default_workers(cores: int | None = None) -> int:
    """Worker processes for `cores` cores: two per core plus one (requests wait on the database
    as much as they compute), at most 17 so that a large machine does not exhaust connections."""
    count = cores if cores is not None else (os.cpu_count() or 1)
    return min(2 * count + 1, 17)


@dataclass(frozen=True)
class WebServer:
    bind: str
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    max_requests: int
    access_log: str

    @classmethod
    def from_environment(
        cls,
        bind: str | None = None,
        workers: int | None = None,
        threads: int | None = None,
        timeout: int | None = None,
    ) -> WebServer:
        """Options given on the command line win over MUHAFIZ_WEB_* variables over defaults."""
        server = cls(
            bind=bind or env_str("MUHAFIZ_WEB_BIND", "127.0.0.1:8000"),
            workers=workers or env_int("MUHAFIZ_WEB_WORKERS", default_workers()),
            threads=threads or env_int("MUHAFIZ_WEB_THREADS", 2),
            timeout=timeout or env_int("MUHAFIZ_WEB_TIMEOUT", 120),
            graceful_timeout=env_int("MUHAFIZ_WEB_GRACEFUL_TIMEOUT", 30),
            max_requests=env_int("MUHAFIZ_WEB_MAX_REQUESTS", 5000),
            access_log=env_str("MUHAFIZ_WEB_ACCESS_LOG", "-"),
        )
        for name in ("workers", "threads", "timeout"):
            if getattr(server, name) < 1:
                raise ValueError(f"web server {name} must be at least 1")
        return server

    def argv(self) -> list[str]:
        """gunicorn's command line for this server."""
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            self.bind,
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread" if self.threads > 1 else "sync",
            "--timeout",
            str(self.timeout),
            "--graceful-timeout",
            str(self.graceful_timeout),
            "--access-logfile",
            self.access_log,
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--error-logfile",
            "-",
            "--name",
            "muhafiz",
            # gunicorn's control socket sits at one path per user: two servers would fight over
            # it, and signals (HUP, TERM) already do what an operator needs.
            "--no-control-socket",
        ]
        if self.max_requests:
            # Recycle workers now and then (memory a long-lived worker accumulates), jittered so
            # that they do not all restart at once.
            args += ["--max-requests", str(self.max_requests)]
            args += ["--max-requests-jitter", str(max(1, self.max_requests // 10))]
        if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's heartbeat files, not data
            args += ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108
        return [*args, APPLICATION]


def exec_server(server: WebServer) -> None:  # pragma: no cover - replaces the process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muhafiz.settings")
    sys.stdout.flush()
    sys.stderr.flush()
    argv = server.argv()
    os.execv(argv[0], argv)  # noqa: S606 - a fixed program: this interpreter running gunicorn
