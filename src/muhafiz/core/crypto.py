"""Field encryption: the key ring, AES-256-GCM values bound to their column, and blind indexes.

Stored form of an encrypted value: ``v1:<key id>:<base64url(12-byte nonce ‖ ciphertext ‖ tag)>``.
The associated data is the value's ``<table>.<column>``, so a value copied into another column
(or another table) does not decrypt. The key ring comes from ``MUHAFIZ_FIELD_KEYS`` (or
``MUHAFIZ_FIELD_KEYS_FILE``) as ``id:base64key,id:base64key``: the first key encrypts, every key
decrypts. A laptop installation without the setting keeps a generated ring in
``DATA_DIR/field_keys`` (mode 0600); production refuses to start without a configured ring.

Blind indexes (``blind_index``) are ``<key id>:<hex HMAC-SHA256>`` under an index key derived
from a ring key with HKDF, so equal values can be found without decrypting; searches try every
key of the ring, and ``keys rotate`` recomputes them with the newest key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_INDEX_INFO = b"muhafiz blind index v1"


class FieldKeyError(RuntimeError):
    """The key ring is missing or malformed; the message says how to fix it."""


class DecryptionError(RuntimeError):
    """A stored value cannot be decrypted: wrong key, unknown key id, moved or damaged value."""


class UnknownKeyError(DecryptionError):
    """The value was encrypted with a key id that is not in the ring."""


@dataclass(frozen=True, slots=True)
class FieldKey:
    key_id: str
    secret: bytes = field(repr=False)

    def fingerprint(self) -> str:
        """A short public identifier of the key material (safe to log and to put in manifests)."""
        return hashlib.sha256(b"muhafiz key fingerprint\x00" + self.secret).hexdigest()[:16]

    def index_key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INDEX_INFO).derive(
            self.secret
        )


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Keys by id; `primary` (the first listed) encrypts."""

    keys: tuple[FieldKey, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.keys:
            raise FieldKeyError("the field key ring is empty")
        ids = [key.key_id for key in self.keys]
        duplicates = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
        if duplicates:
            raise FieldKeyError(f"field key ids must be unique; repeated: {', '.join(duplicates)}")

    @property
    def primary(self) -> FieldKey:
        return self.keys[0]

    def get(self, key_id: str) -> FieldKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise UnknownKeyError(
            f"a value was encrypted with field key {key_id!r}, which is not in the key ring "
            f"({', '.join(k.key_id for k in self.keys)}); add that key back to "
            "MUHAFIZ_FIELD_KEYS"
        )

    # --- values -------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, context: str) -> str:
        key = self.primary
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(key.secret).encrypt(nonce, plaintext.encode("utf-8"), _aad(context))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT_VERSION}:{key.key_id}:{body}"

    def decrypt(self, stored: str, context: str) -> str:
        version, key_id, body = split_stored(stored)
        if version != FORMAT_VERSION:
            raise DecryptionError(f"{context}: unknown encrypted value format {version!r}")
        key = self.get(key_id)
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise DecryptionError(f"{context}: the encrypted value is damaged") from None
        if len(raw) < NONCE_BYTES + 16:
            raise DecryptionError(f"{context}: the encrypted value is truncated")
        try:
            plain = AESGCM(key.secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(context))
        except InvalidTag:
            raise DecryptionError(
                f"{context}: the value does not decrypt with field key {key_id!r} "
                f"(fingerprint {key.fingerprint()}): the key is wrong, or the value was "
                "changed or moved from another column"
            ) from None
        return plain.decode("utf-8")

    # --- blind indexes --------------------------------------------------------------------------

    def blind_index(self, normalized: str, purpose: str, key: FieldKey | None = None) -> str:
        key = key or self.primary
        message = purpose.encode("utf-8") + b"\x00" + normalized.encode("utf-8")
        digest = hmac.new(key.index_key(), message, hashlib.sha256).hexdigest()
        return f"{key.key_id}:{digest}"

    def blind_index_candidates(self, normalized: str, purpose: str) -> list[str]:
        """The index of a value under every key: what a search must match during rotation."""
        return [self.blind_index(normalized, purpose, key) for key in self.keys]


def _aad(context: str) -> bytes:
    return f"muhafiz:{FORMAT_VERSION}:{context}".encode()


def split_stored(stored: str) -> tuple[str, str, str]:
    parts = stored.split(":", 2)
    if len(parts) != 3 or not parts[1]:
        raise DecryptionError(
            "a stored value is not in the encrypted format (v1:<key id>:<data>); "
            "it may be plaintext written around the encrypted field"
        )
    return parts[0], parts[1], parts[2]


def key_id_of(stored: str) -> str:
    return split_stored(stored)[1]


# --- loading the ring -------------------------------------------------------------------------


def parse_key_ring(text: str, source: str = "MUHAFIZ_FIELD_KEYS") -> KeyRing:
    """Parse ``id:base64key`` entries separated by commas or new lines."""
    keys = []
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    for number, raw_entry in enumerate(re.split(r"[,\n]", "\n".join(lines)), start=1):
        entry = raw_entry.strip()
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise FieldKeyError(
                f"{source}: entry {number} has no key id; write entries as id:base64key"
            )
        if not KEY_ID.match(key_id):
            raise FieldKeyError(
                f"{source}: key id {key_id!r} must be 1-32 letters, digits, '-' or '_'"
            )
        try:
            secret = base64.b64decode(_pad(encoded.strip()).translate(_URLSAFE), validate=True)
        except (binascii.Error, ValueError):
            raise FieldKeyError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(secret) != KEY_BYTES:
            raise FieldKeyError(
                f"{source}: key {key_id!r} is {len(secret)} bytes; AES-256 keys are "
                f"{KEY_BYTES} bytes (generate one with `muhafiz manage rotate_field_keys "
                "--print-new-key`)"
            )
        keys.append(FieldKey(key_id, secret))
    if not keys:
        raise FieldKeyError(f"{source} holds no keys")
    return KeyRing(tuple(keys), source=source)


_URLSAFE = str.maketrans("-_", "+/")


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def new_key_entry(key_id: str | None = None) -> str:
    """A fresh ``id:base64key`` entry for a key ring."""
    key_id = key_id or "k" + secrets.token_hex(4)
    if not KEY_ID.match(key_id):
        raise FieldKeyError(f"key id {key_id!r} must be 1-32 letters, digits, '-' or '_'")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def ensure_key_file(path: Path) -> None:
    """Create a laptop installation's key file (0600) unless it exists; safe against races."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(
            "# Muhafiz field-encryption keys: id:base64key, newest first. Losing this file "
            "loses every encrypted field.\n"
        )
        handle.write(new_key_entry() + "\n")
    try:
        os.link(temporary, path)  # atomic, and fails if another process got there first
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def prepend_key_file(path: Path, entry: str) -> None:
    """Put a new key first in a key file (it becomes the encrypting key)."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    comments = [line for line in current.splitlines() if line.strip().startswith("#")]
    others = [line for line in current.splitlines() if line.strip() and line not in comments]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join([*comments, entry, *others]) + "\n")
    temporary.replace(path)


def load_key_ring() -> KeyRing:
    """The configured key ring; raises FieldKeyError with a fix when it is missing or bad."""
    from django.conf import settings

    configured: str | None = getattr(settings, "MUHAFIZ_FIELD_KEYS", None)
    if configured:
        return parse_key_ring(configured)
    if getattr(settings, "PRODUCTION", False):
        raise FieldKeyError(
            "MUHAFIZ_FIELD_KEYS (or MUHAFIZ_FIELD_KEYS_FILE) must be set in production: "
            "victim identity cannot be stored without an encryption key"
        )
    path = Path(settings.MUHAFIZ_FIELD_KEYS_PATH)
    ensure_key_file(path)
    mode = path.stat().st_mode & 0o077
    if mode:
        raise FieldKeyError(f"{path} must be readable by its owner only (chmod 600 {path})")
    return parse_key_ring(path.read_text(encoding="utf-8"), source=str(path))


def validate_configured_ring() -> None:
    """Fail now if the configured ring is missing or malformed; never creates a key file.

    Called when Django starts (every web process, worker and command): a malformed
    MUHAFIZ_FIELD_KEYS, or none in production, stops the process with the reason. A laptop
    installation whose key file does not exist yet is left alone (a restore brings its own).
    """
    from django.conf import settings

    configured: str | None = getattr(settings, "MUHAFIZ_FIELD_KEYS", None)
    path = Path(settings.MUHAFIZ_FIELD_KEYS_PATH)
    if configured or getattr(settings, "PRODUCTION", False) or path.exists():
        load_key_ring()


_ring: KeyRing | None = None
_ring_lock = threading.Lock()


def key_ring() -> KeyRing:
    global _ring  # noqa: PLW0603 - one ring per process, reloaded by reset_key_ring
    ring = _ring
    if ring is None:
        with _ring_lock:
            if _ring is None:
                _ring = load_key_ring()
            ring = _ring
    return ring


def reset_key_ring() -> None:
    """Forget the loaded ring (after settings change, or after `keys rotate` adds a key)."""
    global _ring  # noqa: PLW0603
    with _ring_lock:
        _ring = None


def encrypt(plaintext: str, context: str) -> str:
    return key_ring().encrypt(plaintext, context)


def decrypt(stored: str, context: str) -> str:
    return key_ring().decrypt(stored, context)


def blind_index(value: str, purpose: str) -> str:
    """The blind index of an already normalized value under the encrypting key."""
    return key_ring().blind_index(value, purpose)


def blind_index_candidates(value: str, purpose: str) -> list[str]:
    return key_ring().blind_index_candidates(value, purpose)


def fingerprints(ring: KeyRing | None = None) -> dict[str, str]:
    ring = ring or key_ring()
    return {key.key_id: key.fingerprint() for key in ring.keys}


def key_ids(values: Iterable[str]) -> set[str]:
    return {key_id_of(value) for value in values}
