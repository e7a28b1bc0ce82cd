"""Where stored files live: the data directory (default) or an S3-compatible bucket.

Every file the server keeps for later (uploaded and server-made scan files, backups copied off
the machine) is stored by *name* (`evidence/scans/<sha256>.scan`) through `file_store()`, never
by a path its caller builds. The filesystem store keeps a name at the same place under the data
directory as before the interface existed, so earlier records stay valid. The S3 store goes
through django-storages (bucket, prefix, endpoint and server-side encryption from the
environment, see `s3_options`); a multi-machine deployment shares one bucket instead of a
shared filesystem (docs/decisions/0015).

What holds in both: a name is either absent or holds a whole file (an upload interrupted
midway leaves nothing under its name), a missing name raises `StoredFileMissingError`, and files on
the local disk are the owner's only (0600 in 0700 folders). Readers that need a real file (a
scan file is an SQLite database) ask `local_path`: the file itself on disk, a private cached
copy from a bucket; callers verify the content (the scan's SHA-256) as they always did.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.signals import setting_changed

from muhafiz.core.datadir import FILE_MODE, secure_directory
from muhafiz.core.env import ConfigurationError

CHUNK = 1 << 20
FILESYSTEM = "filesystem"
S3 = "s3"
BACKENDS = (FILESYSTEM, S3)


class StoredFileMissingError(FileNotFoundError):
    """No stored file has this name (never stored, deleted, or lost by the store)."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(f"no stored file {name!r} in {where}")
        self.name = name


class Readable(Protocol):
    """Anything with `read(size)`: an open file, an upload, a member of an archive."""

    def read(self, size: int = -1, /) -> bytes: ...


class FileStore(Protocol):
    """Files by name; a name is a relative POSIX path without `..`."""

    def put(self, name: str, source: Readable) -> int:
        """Store everything `source` yields under `name` (replacing what was there), all or
        nothing; returns the number of bytes stored."""

    def put_file(self, name: str, path: Path) -> int:
        """Store the local file `path` under `name` and remove `path` (moved, where it can be,
        without a copy); returns its size."""

    def open(self, name: str) -> IO[bytes]:
        """The stored file, for reading."""

    def stream(self, name: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The stored file in chunks, without holding it in memory."""

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def delete(self, name: str) -> None:
        """Remove the file; a missing one is no error."""

    def names(self, prefix: str = "") -> Iterator[str]:
        """Every stored name under `prefix` (a folder), sorted."""

    def local_path(self, name: str) -> Path:
        """A file on the local disk with the stored content (see the module's docstring)."""

    def describe(self) -> str:
        """Where the files are, for messages and logs (no credentials)."""


def check_name(name: str) -> str:
    """`name` if it is a plain relative path; ValueError otherwise (never a way out)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        raise ValueError(f"not a stored file name: {name!r}")
    return path.as_posix()


def _stream(handle: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(chunk_size), b"")


class LocalFileStore:
    """Files under a folder of the local disk (the data directory by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def put(self, name: str, source: Readable) -> int:
        final = self.path(name)
        self._make_folders(final.parent)
        # Written beside its place and renamed over it: a reader never sees half a file, and a
        # copy interrupted midway (the client went away, the disk filled) leaves nothing behind.
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
        size = 0
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            with os.fdopen(os.open(temporary, flags, FILE_MODE), "wb") as out:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return size

    def put_file(self, name: str, path: Path) -> int:
        final = self.path(name)
        self._make_folders(final.parent)
        size = path.stat().st_size
        try:
            path.replace(final)  # same disk: a rename, atomic
        except OSError:  # another disk
            with path.open("rb") as source:
                self.put(name, source)
            path.unlink()
        final.chmod(FILE_MODE)
        return size

    def _make_folders(self, folder: Path) -> None:
        """Every folder from the root down, owner-only (mkdir's `parents` would leave the
        intermediate ones to the umask)."""
        for parent in [
            *reversed(folder.relative_to(self.root).parents),
            folder.relative_to(self.root),
        ]:
            secure_directory(self.root / parent)

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.path(name).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileMissingError(name, self.describe()) from exc

    def stream(self, name: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        return _stream(self.open(name), chunk_size)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self.path(name).stat().st_size
        except FileNotFoundError as exc:
            raise StoredFileMissingError(name, self.describe()) from exc

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self, prefix: str = "") -> Iterator[str]:
        folder = self.path(prefix) if prefix else self.root
        if not folder.is_dir():
            return iter(())
        found = (
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.is_symlink() and not p.name.endswith(".part")
        )
        return iter(sorted(found))

    def local_path(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise StoredFileMissingError(name, self.describe())
        return path

    def describe(self) -> str:
        return f"the folder {self.root}"


class S3FileStore:
    """Files in an S3-compatible bucket under a prefix, through django-storages' `S3Storage`."""

    def __init__(self, options: dict[str, Any], cache_dir: Path) -> None:
        from storages.backends.s3 import S3Storage

        self.storage = S3Storage(**options)
        self.bucket_name = str(options["bucket_name"])
        self.prefix = str(options.get("location", "")).strip("/")
        self.cache_dir = cache_dir

    def _missing(self, name: str, exc: BaseException) -> StoredFileMissingError:
        return StoredFileMissingError(name, self.describe())

    def put(self, name: str, source: Readable) -> int:
        name = check_name(name)
        counted = _CountingReader(source)
        # As S3Storage._save, without its need for a seekable file: upload_fileobj sends large
        # files in parts and aborts the multipart upload when the source fails, so the object
        # appears whole when the upload completes, or not at all.
        self.storage.bucket.Object(self._key(name)).upload_fileobj(
            counted,
            ExtraArgs=self.storage.get_object_parameters(name),
            Config=self.storage.transfer_config,
        )
        return counted.size

    def put_file(self, name: str, path: Path) -> int:
        with path.open("rb") as source:
            size = self.put(name, source)
        path.unlink()
        return size

    def open(self, name: str) -> IO[bytes]:
        name = check_name(name)
        try:
            body = self.storage.bucket.Object(self._key(name)).get()["Body"]
        except Exception as exc:
            if _is_not_found(exc):
                raise self._missing(name, exc) from exc
            raise
        return io.BufferedReader(_BodyReader(body), CHUNK)

    def stream(self, name: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        return _stream(self.open(name), chunk_size)

    def exists(self, name: str) -> bool:
        return bool(self.storage.exists(check_name(name)))

    def size(self, name: str) -> int:
        name = check_name(name)
        try:
            return int(self.storage.size(name))
        except Exception as exc:
            if _is_not_found(exc):
                raise self._missing(name, exc) from exc
            raise

    def delete(self, name: str) -> None:
        self.storage.delete(check_name(name))

    def names(self, prefix: str = "") -> Iterator[str]:
        start = self._key(check_name(prefix)).rstrip("/") + "/" if prefix else self._key("")
        skip = len(self._key(""))
        keys = (o.key[skip:] for o in self.storage.bucket.objects.filter(Prefix=start))
        return iter(sorted(k for k in keys if k and not k.endswith("/")))

    def local_path(self, name: str) -> Path:
        """A private copy under the cache folder, fetched once: stored names are written once
        (content-addressed) or replaced whole, and callers check what they read."""
        cached = self.cache_dir / check_name(name)
        if cached.is_file():
            return cached
        secure_directory(cached.parent)
        temporary = cached.with_name(f".{cached.name}.{uuid.uuid4().hex}.part")
        try:
            with (
                self.open(name) as source,
                os.fdopen(
                    os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb"
                ) as out,
            ):
                shutil.copyfileobj(source, out, CHUNK)
            temporary.replace(cached)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return cached

    def forget_local(self, name: str) -> None:
        (self.cache_dir / check_name(name)).unlink(missing_ok=True)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def describe(self) -> str:
        where = f"s3://{self.bucket_name}/{self.prefix}".rstrip("/")
        endpoint = self.storage.endpoint_url
        return f"{where} at {endpoint}" if endpoint else where


class _CountingReader:
    """A file object that counts what is read from it."""

    def __init__(self, source: Readable) -> None:
        self.source = source
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.size += len(chunk)
        return chunk


class _BodyReader(io.RawIOBase):
    """botocore's streaming body as a raw binary file (wrapped in a BufferedReader)."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()


def _is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return isinstance(exc, FileNotFoundError)
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def s3_options(config: dict[str, Any]) -> dict[str, Any]:
    """django-storages' S3Storage options from `settings.MUHAFIZ_S3` (read from the
    environment by settings.py); a missing bucket is a configuration error, said plainly."""
    bucket = config.get("bucket")
    if not bucket:
        raise ConfigurationError("MUHAFIZ_STORAGE=s3 needs MUHAFIZ_S3_BUCKET")
    parameters: dict[str, str] = {}
    if config.get("sse"):
        parameters["ServerSideEncryption"] = str(config["sse"])
    if config.get("sse_kms_key_id"):
        parameters["SSEKMSKeyId"] = str(config["sse_kms_key_id"])
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": str(config.get("prefix") or "").strip("/"),
        "endpoint_url": config.get("endpoint_url") or None,
        "region_name": config.get("region") or None,
        "access_key": config.get("access_key") or None,
        "secret_key": config.get("secret_key") or None,
        "object_parameters": parameters,
        "file_overwrite": True,
        "default_acl": None,
        "querystring_auth": True,
    }
    if config.get("addressing_style"):
        options["addressing_style"] = config["addressing_style"]
    return options


@functools.cache
def file_store() -> FileStore:
    """The installation's store, chosen in settings (`MUHAFIZ_STORAGE`)."""
    backend = getattr(settings, "MUHAFIZ_STORAGE", FILESYSTEM)
    data_dir = Path(settings.DATA_DIR)
    if backend == FILESYSTEM:
        return LocalFileStore(data_dir)
    if backend == S3:
        return S3FileStore(s3_options(settings.MUHAFIZ_S3), data_dir / "cache" / "storage")
    raise ConfigurationError(f"MUHAFIZ_STORAGE={backend!r}: choose one of {', '.join(BACKENDS)}")


def _forget_store(*, setting: str, **kwargs: object) -> None:
    if setting in {"MUHAFIZ_STORAGE", "MUHAFIZ_S3", "DATA_DIR"}:
        file_store.cache_clear()


setting_changed.connect(_forget_store)


@contextlib.contextmanager
def stored_copy(name: str) -> Iterator[Path]:
    """`local_path` for the length of a `with` block; a cached copy from a bucket is removed
    afterwards (files read once, such as a backup being restored)."""
    store = file_store()
    path = store.local_path(name)
    try:
        yield path
    finally:
        if isinstance(store, S3FileStore):
            store.forget_local(name)
