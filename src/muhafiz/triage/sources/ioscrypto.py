"""Encrypted iOS backups: the keybag, its class keys unlocked by the backup password, and each
stored file read as its plaintext (docs/decisions/0104-ios-encrypted-backups.md).

The format, as iOS 10.2 and later write it (and as the open readers of it agree):
- `Manifest.plist` holds `BackupKeyBag`, a run of tag (4 bytes), length (4 bytes, big-endian),
  value records. Before the first class key come the keybag's own attributes: `SALT`/`ITER`
  (PBKDF2-HMAC-SHA1) and `DPSL`/`DPIC` (PBKDF2-HMAC-SHA256, applied first). Each class key
  starts with a `UUID` record and carries `CLAS` (its protection class), `WRAP` (2: wrapped by
  the password) and `WPKY` (the class key, AES-wrapped, RFC 3394).
- The password key is PBKDF2-SHA1(PBKDF2-SHA256(password, DPSL, DPIC), SALT, ITER), 32 bytes.
  A wrong password is detected by the key wrap's own integrity check.
- `ManifestKey` (in Manifest.plist) and each file's `EncryptionKey` (in its MBFile plist in
  `Manifest.db`) are a 4-byte little-endian protection class and a 40-byte wrapped key; the
  class key of that protection class unwraps it.
- `Manifest.db` and every stored file are AES-256-CBC with a zero IV and PKCS#7 padding; a file
  is cut at the `Size` its MBFile records.
Nothing decrypted is written anywhere: the manifest is read from memory, files are decrypted
as they are read.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from muhafiz.triage.sources.base import PositionedReader

BLOCK = 16
WRAP_PASSCODE = 2
WRAPPED_KEY_BYTES = 40
# A hostile Manifest.plist could ask for billions of PBKDF2 rounds (hours of CPU). iOS writes
# 10,000,000 SHA-256 rounds and 10,000 SHA-1 rounds; anything far beyond is refused.
MAX_SHA256_ROUNDS = 50_000_000
MAX_SHA1_ROUNDS = 10_000_000
_CLASS_KEY_TAGS = frozenset({b"CLAS", b"WRAP", b"WPKY", b"KTYP", b"PBKY"})


class KeybagError(ValueError):
    """The backup's keybag or a wrapped key is damaged or incomplete."""


class WrongPasswordError(ValueError):
    """The password does not unwrap the backup's class keys."""


@dataclass
class Keybag:
    attributes: dict[bytes, bytes | int] = field(default_factory=dict)
    wrapped: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # class -> (WRAP, WPKY)


def _records(blob: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = 0
    while at + 8 <= len(blob):
        tag = blob[at : at + 4]
        (length,) = struct.unpack(">I", blob[at + 4 : at + 8])
        value = blob[at + 8 : at + 8 + length]
        if len(value) != length:
            raise KeybagError("the keybag ends inside a record")
        yield tag, value
        at += 8 + length


def parse_keybag(blob: bytes) -> Keybag:
    """The keybag's attributes and its wrapped class keys (by protection class)."""
    keybag = Keybag()
    current: dict[bytes, bytes] | None = None
    seen_uuid = False

    def finish(entry: dict[bytes, bytes] | None) -> None:
        if entry is None or b"WPKY" not in entry:
            return
        try:
            keybag.wrapped[_int(entry[b"CLAS"])] = (_int(entry[b"WRAP"]), entry[b"WPKY"])
        except KeyError as exc:
            raise KeybagError(f"a class key lacks {exc.args[0]!r}") from None

    for tag, value in _records(blob):
        if tag == b"UUID":
            if seen_uuid:  # the first UUID is the keybag's own; each later one opens a class key
                finish(current)
                current = {}
            seen_uuid = True
        elif current is not None and tag in _CLASS_KEY_TAGS:
            current[tag] = value
        elif current is None:
            keybag.attributes[tag] = _int(value) if len(value) == 4 else value
    finish(current)
    return keybag


def _int(value: bytes) -> int:
    if len(value) != 4:
        raise KeybagError(f"a number in the keybag is {len(value)} bytes long, not 4")
    return int(struct.unpack(">I", value)[0])


def password_key(keybag: Keybag, password: bytes) -> bytes:
    """The key that unwraps the class keys: PBKDF2-SHA256 (iOS 10.2 and later), then SHA-1."""
    attrs = keybag.attributes
    salt, rounds = attrs.get(b"SALT"), attrs.get(b"ITER")
    if not isinstance(salt, bytes) or not isinstance(rounds, int) or rounds <= 0:
        raise KeybagError("the keybag has no SALT/ITER for the password")
    if rounds > MAX_SHA1_ROUNDS:
        raise KeybagError(f"the keybag asks for {rounds} PBKDF2 rounds; refused")
    secret = password
    dp_salt, dp_rounds = attrs.get(b"DPSL"), attrs.get(b"DPIC")
    if dp_salt is not None or dp_rounds is not None:
        if not isinstance(dp_salt, bytes) or not isinstance(dp_rounds, int) or dp_rounds <= 0:
            raise KeybagError("the keybag's DPSL/DPIC are damaged")
        if dp_rounds > MAX_SHA256_ROUNDS:
            raise KeybagError(f"the keybag asks for {dp_rounds} PBKDF2 rounds; refused")
        secret = hashlib.pbkdf2_hmac("sha256", password, dp_salt, dp_rounds, 32)
    return hashlib.pbkdf2_hmac("sha1", secret, salt, rounds, 32)


def unlock(keybag: Keybag, password: bytes) -> dict[int, bytes]:
    """The class keys (by protection class); raises WrongPasswordError or KeybagError."""
    key = password_key(keybag, password)
    keys: dict[int, bytes] = {}
    for protection_class, (wrap, wrapped) in keybag.wrapped.items():
        if not wrap & WRAP_PASSCODE:
            continue  # wrapped by the device's own key only: not in a backup's reach
        try:
            keys[protection_class] = aes_key_unwrap(key, wrapped)
        except InvalidUnwrap:
            raise WrongPasswordError("the backup password is wrong") from None
        except ValueError as exc:
            raise KeybagError(f"class key {protection_class} is damaged ({exc})") from None
    if not keys:
        raise KeybagError("the keybag holds no class key wrapped by the password")
    return keys


def unwrap_file_key(class_keys: dict[int, bytes], protection_class: int, wrapped: bytes) -> bytes:
    """A file's (or the manifest's) own key from its 40-byte wrapped key."""
    if len(wrapped) != WRAPPED_KEY_BYTES:
        raise KeybagError(f"a wrapped key is {len(wrapped)} bytes long, not 40")
    class_key = class_keys.get(protection_class)
    if class_key is None:
        raise KeybagError(f"no class key for protection class {protection_class}")
    try:
        return aes_key_unwrap(class_key, wrapped)
    except (InvalidUnwrap, ValueError):
        raise KeybagError(f"a key of protection class {protection_class} does not unwrap") from None


def split_class_and_key(value: bytes) -> tuple[int, bytes]:
    """`ManifestKey` / `EncryptionKey`: a little-endian protection class, then the wrapped key."""
    if len(value) != 4 + WRAPPED_KEY_BYTES:
        raise KeybagError(f"a stored key is {len(value)} bytes long, not 44")
    return int(struct.unpack("<I", value[:4])[0]), value[4:]


def decrypt_all(data: bytes, key: bytes) -> bytes:
    """AES-256-CBC, zero IV, PKCS#7 padding removed when it is valid (Manifest.db)."""
    whole = len(data) - len(data) % BLOCK
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(BLOCK))).decryptor()
    plain = decryptor.update(data[:whole]) + decryptor.finalize()
    return plain[: len(plain) - _padding(plain)]


def _padding(plain: bytes) -> int:
    pad = plain[-1] if plain else 0
    return pad if 0 < pad <= BLOCK and plain[-pad:] == bytes([pad]) * pad else 0


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What a file's MBFile plist says about its encryption."""

    protection_class: int
    wrapped: bytes
    size: int | None


def stored_key(blob: bytes | None) -> StoredKey | None:
    """The `EncryptionKey`, `ProtectionClass` and `Size` of a `Files.file` plist (an
    NSKeyedArchiver archive of an MBFile); None when the file carries no key (not encrypted)."""
    if not blob:
        return None
    try:
        archived: Any = plistlib.loads(blob)
        objects = archived["$objects"]
        root = objects[archived["$top"]["root"].data]
        reference = root.get("EncryptionKey")
        if reference is None:
            return None
        key_object = objects[reference.data]
        value = key_object["NS.data"] if isinstance(key_object, dict) else key_object
        protection_class, wrapped = split_class_and_key(bytes(value))
        size = root.get("Size")
        recorded = root.get("ProtectionClass", protection_class)
    except KeybagError:
        raise
    except Exception as exc:  # a damaged plist: the file's key cannot be found
        raise KeybagError(f"its MBFile plist is damaged ({type(exc).__name__})") from None
    if not isinstance(recorded, int):
        recorded = protection_class
    return StoredKey(recorded, wrapped, size if isinstance(size, int) and size >= 0 else None)


class DecryptingReader(PositionedReader):
    """A stored file read as its plaintext: AES-256-CBC decrypted block by block as it is read
    (seekable: a block's IV is the ciphertext block before it), cut at the recorded size."""

    def __init__(self, fd: int, key: bytes, size: int | None) -> None:
        super().__init__()
        self._fd = fd
        self._cipher = algorithms.AES(key)
        stored = os.fstat(fd).st_size
        self._stored = stored - stored % BLOCK  # a torn last block cannot be decrypted
        self._size = min(size, self._stored) if size is not None else self._unpadded()
        self._pos = 0

    @property
    def plaintext_size(self) -> int:
        return self._size

    def _unpadded(self) -> int:
        if self._stored == 0:
            return 0
        return self._stored - _padding(self._decrypt(self._stored - BLOCK, self._stored))

    def _decrypt(self, start: int, end: int) -> bytes:
        """Plaintext of ciphertext [start, end), both on block boundaries."""
        iv = os.pread(self._fd, BLOCK, start - BLOCK) if start else bytes(BLOCK)
        data = os.pread(self._fd, end - start, start)
        data = data[: len(data) - len(data) % BLOCK]
        if len(iv) != BLOCK:
            return b""
        decryptor = Cipher(self._cipher, modes.CBC(iv)).decryptor()
        return decryptor.update(data) + decryptor.finalize()

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        start = self._pos - self._pos % BLOCK
        end = min(-(-(self._pos + want) // BLOCK) * BLOCK, self._stored)
        plain = self._decrypt(start, end)[self._pos - start : self._pos - start + want]
        view[: len(plain)] = plain
        self._pos += len(plain)
        return len(plain)

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()
