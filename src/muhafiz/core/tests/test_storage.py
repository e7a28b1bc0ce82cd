"""The file store (core.storage) on the local disk and in a real S3 server (SeaweedFS): the same
contract on both, plus what each adds (owner-only files on disk, encryption at rest in S3)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from muhafiz.core.storage import LocalFileStore, S3FileStore, StoredFileMissingError, file_store

MB = 1 << 20


def _payload(size: int, seed: int = 7) -> bytes:
    """Bytes that no two positions repeat for long (compression cannot hide them)."""
    return (bytes(range(256)) * (size // 256 + 1))[:size] if seed == 0 else os.urandom(size)


class _Interrupted(io.RawIOBase):
    """A source that fails after `good` bytes, as an upload whose client went away."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("the client went away")
        n = min(self.left, MB if size is None or size < 0 else size)
        self.left -= n
        return b"\x01" * n


def test_a_stored_file_reads_back_whole_and_in_chunks(any_storage: str) -> None:
    store = file_store()
    data = _payload(3 * MB + 17)
    assert store.put("evidence/scans/a.scan", io.BytesIO(data)) == len(data)
    assert store.exists("evidence/scans/a.scan")
    assert store.size("evidence/scans/a.scan") == len(data)
    with store.open("evidence/scans/a.scan") as handle:
        assert handle.read() == data
    chunks = list(store.stream("evidence/scans/a.scan", chunk_size=MB))
    assert b"".join(chunks) == data
    assert len(chunks) >= 3  # streamed, not read whole
    assert store.local_path("evidence/scans/a.scan").read_bytes() == data
    assert list(store.names("evidence")) == ["evidence/scans/a.scan"]


def test_storing_under_a_name_again_replaces_the_file(any_storage: str) -> None:
    store = file_store()
    store.put("exports/bank.json", io.BytesIO(b"first"))
    store.put("exports/bank.json", io.BytesIO(b"second version"))
    assert b"".join(store.stream("exports/bank.json")) == b"second version"
    assert list(store.names("exports")) == ["exports/bank.json"]


def test_a_missing_name_is_a_clear_error_everywhere(any_storage: str) -> None:
    store = file_store()
    for read in (store.open, store.size, store.local_path):
        with pytest.raises(
            StoredFileMissingError, match=r"no stored file 'evidence/scans/none\.scan'"
        ):
            read("evidence/scans/none.scan")
    with pytest.raises(FileNotFoundError):  # StoredFileMissingError is one
        list(store.stream("evidence/scans/none.scan"))
    assert not store.exists("evidence/scans/none.scan")
    store.delete("evidence/scans/none.scan")  # nothing to delete is no error


@pytest.mark.parametrize("good", [100_000, 20 * MB])  # one request; a multipart upload
def test_an_interrupted_upload_leaves_nothing_under_its_name(any_storage: str, good: int) -> None:
    store = file_store()
    store.put("evidence/scans/kept.scan", io.BytesIO(b"an earlier file"))
    with pytest.raises(ConnectionResetError):
        store.put("evidence/scans/new.scan", _Interrupted(good))
    with pytest.raises(ConnectionResetError):
        store.put("evidence/scans/kept.scan", _Interrupted(good))
    assert not store.exists("evidence/scans/new.scan")
    assert b"".join(store.stream("evidence/scans/kept.scan")) == b"an earlier file"
    assert list(store.names("evidence")) == ["evidence/scans/kept.scan"]
    if isinstance(store, LocalFileStore):
        assert sorted(p.name for p in (store.root / "evidence" / "scans").iterdir()) == [
            "kept.scan"
        ]  # no partial file left beside it
    else:
        assert isinstance(store, S3FileStore)
        uploads = store.storage.bucket.meta.client.list_multipart_uploads(Bucket=store.bucket_name)
        assert not uploads.get("Uploads")  # an interrupted multipart upload was aborted


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../outside", "evidence/../../outside", "a\\b", "a\x00b"]
)
def test_a_name_cannot_leave_the_store(any_storage: str, name: str) -> None:
    store = file_store()
    with pytest.raises(ValueError, match="not a stored file name"):
        store.put(name, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="not a stored file name"):
        store.open(name)


def test_files_on_disk_are_the_owners_only_whatever_the_umask(
    settings: Any, tmp_path: Path
) -> None:
    settings.MUHAFIZ_STORAGE = "filesystem"
    settings.DATA_DIR = tmp_path
    old = os.umask(0o022)
    try:
        store = file_store()
        store.put("evidence/scans/a.scan", io.BytesIO(b"data"))
    finally:
        os.umask(old)
    assert isinstance(store, LocalFileStore)
    assert store.root == tmp_path
    path = tmp_path / "evidence" / "scans" / "a.scan"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "evidence").stat().st_mode) == 0o700


def test_files_in_s3_are_encrypted_at_rest_under_the_prefix(s3_storage: Any) -> None:
    store = file_store()
    assert isinstance(store, S3FileStore)
    marker = b"MUHAFIZ-PLAINTEXT-MARKER-" * 4000
    store.put("evidence/scans/secret.scan", io.BytesIO(marker))
    client = store.storage.bucket.meta.client
    listed = client.list_objects_v2(Bucket=store.bucket_name, Prefix=store.prefix + "/")
    assert [o["Key"] for o in listed["Contents"]] == [f"{store.prefix}/evidence/scans/secret.scan"]
    head = client.head_object(Bucket=store.bucket_name, Key=listed["Contents"][0]["Key"])
    assert head["ServerSideEncryption"] == "AES256"
    assert b"".join(store.stream("evidence/scans/secret.scan")) == marker
    stored_bytes = b"".join(
        p.read_bytes() for p in Path(s3_storage.data_dir).rglob("*") if p.is_file()
    )
    assert b"MUHAFIZ-PLAINTEXT-MARKER-" not in stored_bytes
    assert "s3://" in store.describe()
    assert s3_storage.secret_key not in store.describe()


def test_s3_with_a_wrong_secret_refuses_instead_of_losing_the_file(
    s3_storage: Any, settings: Any
) -> None:
    settings.MUHAFIZ_S3 = {**settings.MUHAFIZ_S3, "secret_key": "not-the-secret"}
    with pytest.raises(Exception, match=r"SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId"):
        file_store().put("evidence/scans/a.scan", io.BytesIO(b"data"))
