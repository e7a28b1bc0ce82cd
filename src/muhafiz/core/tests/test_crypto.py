"""Field encryption: nothing readable at rest, rotation keeps every value, a wrong key is loud."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import stat
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import isolate_apps
from hypothesis import given
from hypothesis import strategies as st

from muhafiz.audit.actions import SensitiveDetailError, record
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.core import crypto
from muhafiz.core.fields import blind_index_q, check_field_keys
from muhafiz.core.identifiers import IdentifierError
from muhafiz.core.tests.sample_models import ProtectedSample


def _key(seed: int) -> str:
    return base64.b64encode(bytes([seed]) * 32).decode()


OLD = f"old:{_key(1)}"
NEW = f"new_2:{_key(2)}"
IMPOSTOR = f"old:{_key(3)}"  # the same key id with different key material


def _raw(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM core_protectedsample WHERE id = %s",  # noqa: S608
            [pk],
        )
        (value,) = cursor.fetchone()
    return str(value)


def _sample(name: str = "Ayesha Bibi", cnic: str | None = "35202-1234567-1") -> ProtectedSample:
    return ProtectedSample.objects.create(
        pseudonym="V-2026-LHR-0017", name=name, cnic=cnic, birth_date=dt.date(2014, 3, 9)
    )


# --- the key ring -----------------------------------------------------------------------------


def test_a_value_round_trips_and_names_its_key() -> None:
    ring = crypto.parse_key_ring(f"{NEW},{OLD}")
    stored = ring.encrypt("Ayesha Bibi", "cases_victim.name")
    assert stored.startswith("v1:new_2:")
    assert "Ayesha" not in stored
    assert ring.decrypt(stored, "cases_victim.name") == "Ayesha Bibi"
    assert ring.encrypt("x", "t.c") != ring.encrypt("x", "t.c")  # a fresh nonce every time


def test_a_value_moved_to_another_column_does_not_decrypt() -> None:
    ring = crypto.parse_key_ring(OLD)
    stored = ring.encrypt("Ayesha Bibi", "cases_victim.name")
    with pytest.raises(crypto.DecryptionError, match="moved from another column"):
        ring.decrypt(stored, "cases_victim.guardian_name")


def test_the_wrong_key_raises_a_named_error_not_garbage() -> None:
    stored = crypto.parse_key_ring(OLD).encrypt("Ayesha Bibi", "t.c")
    with pytest.raises(crypto.DecryptionError, match="key is wrong"):
        crypto.parse_key_ring(IMPOSTOR).decrypt(stored, "t.c")
    with pytest.raises(crypto.UnknownKeyError, match="'old'"):
        crypto.parse_key_ring(NEW).decrypt(stored, "t.c")


def test_damaged_values_raise_a_named_error() -> None:
    ring = crypto.parse_key_ring(OLD)
    stored = ring.encrypt("Ayesha Bibi", "t.c")
    for damaged in ("Ayesha Bibi", stored[:-6], stored[:12], "v1:old:!!!!", "v9:old:AAAA"):
        with pytest.raises(crypto.DecryptionError):
            ring.decrypt(damaged, "t.c")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no keys"),
        (_key(1), "no key id"),
        ("bad id!:" + _key(1), "must be 1-32"),
        ("a:not-base64!", "not valid base64"),
        ("a:" + base64.b64encode(b"short").decode(), "5 bytes"),
        (f"{OLD},{IMPOSTOR}", "repeated: old"),
    ],
)
def test_a_malformed_key_ring_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(crypto.FieldKeyError, match=says):
        crypto.parse_key_ring(text)


def test_a_laptop_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "field_keys"
    with override_settings(MUHAFIZ_FIELD_KEYS=None, MUHAFIZ_FIELD_KEYS_PATH=path):
        ring = crypto.key_ring()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        crypto.reset_key_ring()
        assert crypto.key_ring().primary == ring.primary
        path.chmod(0o644)
        crypto.reset_key_ring()
        with pytest.raises(crypto.FieldKeyError, match="chmod 600"):
            crypto.key_ring()


def test_production_without_keys_fails_the_start_up_check(tmp_path: Path) -> None:
    with override_settings(
        MUHAFIZ_FIELD_KEYS=None, PRODUCTION=True, MUHAFIZ_FIELD_KEYS_PATH=tmp_path / "k"
    ):
        errors = check_field_keys()
    assert [e.id for e in errors] == ["muhafiz.E001"]
    assert "must be set in production" in errors[0].msg
    assert not (tmp_path / "k").exists()


def test_start_up_validation_refuses_a_bad_ring_and_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "field_keys"
    with override_settings(MUHAFIZ_FIELD_KEYS=None, MUHAFIZ_FIELD_KEYS_PATH=path):
        crypto.validate_configured_ring()  # a fresh laptop data directory: nothing to check yet
        assert not path.exists()
    with (
        override_settings(MUHAFIZ_FIELD_KEYS="k1:abc", MUHAFIZ_FIELD_KEYS_PATH=path),
        pytest.raises(crypto.FieldKeyError, match="32 bytes"),
    ):
        crypto.validate_configured_ring()


# --- the model fields -------------------------------------------------------------------------


@pytest.mark.usefixtures("protected")
@override_settings(MUHAFIZ_FIELD_KEYS=OLD)
def test_the_stored_column_is_not_the_plaintext() -> None:
    sample = _sample()
    for column, plain in (("name", "Ayesha"), ("cnic", "1234567"), ("birth_date", "2014")):
        raw = _raw(sample.pk, column)
        assert raw.startswith("v1:old:")
        assert plain not in raw
    assert "1234567" not in _raw(sample.pk, "cnic_index")
    fresh = ProtectedSample.objects.get(pk=sample.pk)
    assert fresh.name == "Ayesha Bibi"
    assert fresh.cnic == "35202-1234567-1"
    assert fresh.birth_date == dt.date(2014, 3, 9)


@pytest.mark.usefixtures("protected")
@override_settings(MUHAFIZ_FIELD_KEYS=OLD)
def test_find_by_cnic_through_the_blind_index_in_any_layout() -> None:
    wanted = _sample()
    _sample(name="Someone Else", cnic="42101-7654321-3")
    _sample(name="No Card", cnic=None)
    blank = _sample(name="Blank Card", cnic="  ")
    assert _raw(blank.pk, "cnic_index") == "None"
    for layout in ("35202-1234567-1", "3520212345671", "35202 1234567 1"):
        found = ProtectedSample.objects.filter(blind_index_q(ProtectedSample, "cnic_index", layout))
        assert list(found) == [wanted]
    assert not ProtectedSample.objects.filter(
        blind_index_q(ProtectedSample, "cnic_index", "11111-1111111-1")
    ).exists()
    with pytest.raises(IdentifierError):
        blind_index_q(ProtectedSample, "cnic_index", "12345")
    assert ProtectedSample.objects.filter(cnic__isnull=True).count() == 1


@pytest.mark.usefixtures("protected")
@override_settings(MUHAFIZ_FIELD_KEYS=OLD)
def test_encrypted_columns_cannot_be_searched_in_sql() -> None:
    with pytest.raises(FieldError, match="BlindIndexField"):
        ProtectedSample.objects.filter(name="Ayesha Bibi").exists()
    with pytest.raises(FieldError):
        ProtectedSample.objects.filter(name__icontains="Ayesha").exists()


@pytest.mark.usefixtures("protected")
@override_settings(MUHAFIZ_FIELD_KEYS=OLD)
def test_a_malformed_cnic_cannot_be_saved() -> None:
    with pytest.raises(IdentifierError):
        _sample(cnic="35202-12345")


@pytest.mark.usefixtures("protected")
def test_after_rotation_every_value_reads_and_carries_the_new_key() -> None:
    with override_settings(MUHAFIZ_FIELD_KEYS=OLD):
        samples = [_sample(name=f"Child {n}", cnic=f"35202-123456{n}-1") for n in range(7)]
        _sample(name="No Card", cnic=None)
    with override_settings(MUHAFIZ_FIELD_KEYS=f"{NEW},{OLD}"):
        # Before rotation, search still finds rows indexed under the old key.
        assert (
            ProtectedSample.objects.filter(
                blind_index_q(ProtectedSample, "cnic_index", "35202-1234563-1")
            ).get()
            == samples[3]
        )
        call_command("rotate_field_keys", "--batch-size", "3", stdout=_Sink())
        for sample in ProtectedSample.objects.all():
            for column in ("name", "birth_date"):
                assert _raw(sample.pk, column).startswith("v1:new_2:")
            if sample.cnic is not None:
                assert _raw(sample.pk, "cnic").startswith("v1:new_2:")
                assert _raw(sample.pk, "cnic_index").startswith("new_2:")
        assert [s.name for s in ProtectedSample.objects.order_by("pk")] == [
            *(f"Child {n}" for n in range(7)),
            "No Card",
        ]
        assert (
            ProtectedSample.objects.filter(
                blind_index_q(ProtectedSample, "cnic_index", "3520212345631")
            ).get()
            == samples[3]
        )
        batches = AuditEvent.objects.filter(action="keys.rotate.batch")
        assert sum(event.details["rows"] for event in batches) == 8
        summary = AuditEvent.objects.get(action="keys.rotate")
        assert summary.details == {"rows": 8, "to_key": "new_2", "ring": ["new_2", "old"]}
        assert verify_chain().ok
        # A second run has nothing left to do.
        call_command("rotate_field_keys", stdout=_Sink())
        assert AuditEvent.objects.filter(action="keys.rotate.batch").count() == batches.count()
    # The old key alone can no longer read the rotated data, loudly.
    with override_settings(MUHAFIZ_FIELD_KEYS=OLD), pytest.raises(crypto.UnknownKeyError):
        ProtectedSample.objects.first()


@pytest.mark.usefixtures("protected")
def test_a_wrong_key_fails_loudly_at_start_up_and_on_read() -> None:
    with override_settings(MUHAFIZ_FIELD_KEYS=OLD):
        _sample()
        assert check_field_keys(databases=["default"]) == []
    with override_settings(MUHAFIZ_FIELD_KEYS=IMPOSTOR):
        errors = check_field_keys(databases=["default"])
        assert {e.id for e in errors} == {"muhafiz.E002"}
        assert "key is wrong" in errors[0].msg
        with pytest.raises(crypto.DecryptionError):
            ProtectedSample.objects.get()


@pytest.mark.usefixtures("protected")
@override_settings(MUHAFIZ_FIELD_KEYS=OLD)
def test_the_audit_refuses_a_victims_name_in_its_details(people: object) -> None:
    sample = _sample()
    with transaction.atomic():
        event = record(None, "victim.identity.view", sample, field="name")
        assert event.object_label == "V-2026-LHR-0017"
        with pytest.raises(SensitiveDetailError):
            record(None, "victim.update", sample, note="renamed to ayesha bibi")
        with pytest.raises(SensitiveDetailError):
            record(None, "victim.update", sample, reason="CNIC 35202-1234567-1 checked")
        # Initials are not refused: they would match ordinary words.
        short = ProtectedSample(pk=sample.pk, pseudonym="V-1", name="AB")
        record(None, "victim.update", short, note="AB reviewed")
    assert AuditEvent.objects.count() == 2


@isolate_apps("muhafiz.core")
def test_an_encrypted_field_cannot_be_unique_or_indexed() -> None:
    from django.db import models

    from muhafiz.core.fields import EncryptedTextField

    class UniqueSecret(models.Model):
        secret = EncryptedTextField(unique=True)

        class Meta:
            app_label = "core"

    errors = UniqueSecret._meta.get_field("secret").check()
    assert [e.id for e in errors] == ["muhafiz.E004"]


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


# --- properties -------------------------------------------------------------------------------

PROPERTY_RING = crypto.parse_key_ring(f"{NEW},{OLD}")


@given(st.text(max_size=300), st.sampled_from(["cases_victim.name", "t.c"]))
def test_any_text_round_trips(plain: str, context: str) -> None:
    stored = PROPERTY_RING.encrypt(plain, context)
    assert PROPERTY_RING.decrypt(stored, context) == plain


@given(st.binary(min_size=1, max_size=8), st.integers(min_value=0))
def test_any_changed_ciphertext_fails_with_a_named_error(noise: bytes, where: int) -> None:
    stored = PROPERTY_RING.encrypt("Ayesha Bibi", "t.c")
    prefix, body = stored.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    position = where % len(raw)
    raw[position] ^= noise[0] or 1
    changed = f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(crypto.DecryptionError):
        PROPERTY_RING.decrypt(changed, "t.c")


@given(st.text(max_size=200))
def test_any_stored_text_decrypts_or_fails_with_a_named_error(stored: str) -> None:
    with contextlib.suppress(crypto.DecryptionError):
        PROPERTY_RING.decrypt(stored, "t.c")
