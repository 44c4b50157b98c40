"""Per-holder data keys and the sealing of personal values with them (rule B7).

A holder has one data key per erasure stage (`DataKey.Purpose`), made on first use. The
key is random (AES-256) and stored wrapped with a master key from `DATA_KEYS`
("k2:secret2,k1:secret1", current first; the others still unwrap older keys, and
`rewrap_data_keys` moves every key to the current one). A sealed value is the text
`enc:<data key id>:<base64 of nonce + AES-GCM ciphertext>`; once the key row is deleted
it reads as ERASED.
"""

import base64
import datetime as dt
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils.functional import cached_property

from .db import bulk_insert
from .models import DataKey
from .personal_data import ERASED

PREFIX = "enc:"
UNREADABLE = "[unreadable]"
_NONCE = 12


def master_keys() -> dict[str, bytes]:
    """The master keys by id from `DATA_KEYS`, current first, each stretched to 256 bits."""
    keys: dict[str, bytes] = {}
    for pair in settings.DATA_KEYS.split(","):
        key_id, _, secret = pair.strip().partition(":")
        if not key_id or len(secret) < 16 or len(key_id) > 16 or key_id in keys:
            raise ImproperlyConfigured(
                "DATA_KEYS must be comma-separated 'key-id:secret' pairs with distinct key "
                "ids of at most 16 characters and secrets of at least 16 characters."
            )
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal data keys")
        keys[key_id] = hkdf.derive(secret.encode())
    return keys


def _aad(holder_id: int, purpose: str) -> bytes:
    return f"data-key:{holder_id}:{purpose}".encode()


def _ciphers() -> dict[str, AESGCM]:
    """A cipher per master key id, current first: deriving a master key costs more than
    wrapping a data key with it, and a batch wraps or unwraps hundreds."""
    return {key_id: AESGCM(master) for key_id, master in master_keys().items()}


def _wrap(
    raw: bytes, *, holder_id: int, purpose: str, ciphers: dict[str, AESGCM]
) -> tuple[str, bytes]:
    master_id, cipher = next(iter(ciphers.items()))
    nonce = os.urandom(_NONCE)
    return master_id, nonce + cipher.encrypt(nonce, raw, _aad(holder_id, purpose))


def _unwrap(data_key: DataKey, ciphers: dict[str, AESGCM]) -> bytes:
    cipher = ciphers.get(data_key.master_key_id)
    if cipher is None:
        raise ImproperlyConfigured(
            f"Data key {data_key.pk} is wrapped with master key '{data_key.master_key_id}', "
            "which DATA_KEYS no longer lists."
        )
    wrapped = bytes(data_key.wrapped)
    aad = _aad(data_key.holder_id, data_key.purpose)
    return cipher.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad)


def data_key_get_or_create(*, holder, purpose: str, at: dt.datetime) -> tuple[DataKey, AESGCM]:
    """The holder's data key for `purpose` and a cipher under it, made on first use. Call
    it inside the writing transaction."""
    return data_keys_get_or_create([holder], purpose=purpose, at=at)[holder.pk]


def data_keys_get_or_create(
    holders, *, purpose: str, at: dt.datetime
) -> dict[int, tuple[DataKey, AESGCM]]:
    """Each holder's data key for `purpose` and a cipher under it (made once: a sweep
    seals several values with each), by holder id, the missing ones made: one SELECT,
    and for missing keys one bulk insert. Call it inside the writing transaction. Two
    transactions making a holder's first key at once are safe: the unique (holder,
    purpose) refuses the second's insert (after waiting for the first to commit), which
    then inserts the keys still missing, skipping conflicts, and reads and uses the
    first's key."""
    holder_ids = {holder.pk for holder in holders}
    found = {
        data_key.holder_id: data_key
        for data_key in DataKey.objects.filter(holder_id__in=holder_ids, purpose=purpose)
    }
    ciphers = _ciphers()
    keys = {
        holder_id: (data_key, AESGCM(_unwrap(data_key, ciphers)))
        for holder_id, data_key in found.items()
    }
    missing = sorted(holder_ids - found.keys())
    if not missing:
        return keys
    made = {}
    for holder_id in missing:
        raw = AESGCM.generate_key(bit_length=256)
        master_id, wrapped = _wrap(raw, holder_id=holder_id, purpose=purpose, ciphers=ciphers)
        made[holder_id] = (raw, master_id, wrapped)

    def rows():
        return [
            DataKey(
                holder_id=holder_id,
                purpose=purpose,
                wrapped=wrapped,
                master_key_id=master_id,
                created_at=at,
            )
            for holder_id, (_, master_id, wrapped) in made.items()
        ]

    try:
        with transaction.atomic():
            for data_key in bulk_insert(rows()):
                keys[data_key.holder_id] = (data_key, AESGCM(made[data_key.holder_id][0]))
    except IntegrityError:
        DataKey.objects.bulk_create(rows(), ignore_conflicts=True)
        # Ours, or another transaction's where it made the same key first.
        for data_key in DataKey.objects.filter(holder_id__in=missing, purpose=purpose):
            keys[data_key.holder_id] = (data_key, AESGCM(_unwrap(data_key, ciphers)))
    return keys


def data_keys_shred(*, holder, purpose: str) -> int:
    """Delete the holder's data key for `purpose`: what it sealed is unreadable from now."""
    deleted, _ = DataKey.objects.filter(holder=holder, purpose=purpose).delete()
    return deleted


def data_keys_rewrap() -> int:
    """Wrap every data key with the current master key (after adding a new one to
    DATA_KEYS); returns how many moved. The old master key can then be removed."""
    ciphers = _ciphers()
    current = next(iter(ciphers))
    moved = 0
    for data_key in DataKey.objects.exclude(master_key_id=current).iterator():
        raw = _unwrap(data_key, ciphers)
        master_id, wrapped = _wrap(
            raw, holder_id=data_key.holder_id, purpose=data_key.purpose, ciphers=ciphers
        )
        DataKey.objects.filter(pk=data_key.pk).update(wrapped=wrapped, master_key_id=master_id)
        moved += 1
    return moved


def seal(value, *, data_key: DataKey, cipher: AESGCM) -> str:
    """`value` (anything JSON can hold) as sealed text, by `cipher` under `data_key`."""
    nonce = os.urandom(_NONCE)
    plain = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
    sealed = nonce + cipher.encrypt(nonce, plain, str(data_key.pk).encode())
    return f"{PREFIX}{data_key.pk}:{base64.b64encode(sealed).decode()}"


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class KeyRing:
    """Opens sealed values, loading each data key once (and the master keys once, however
    many holders' values an export opens); a deleted key opens as ERASED."""

    def __init__(self):
        self._ciphers: dict[int, AESGCM | None] = {}

    @cached_property
    def _masters(self) -> dict[str, AESGCM]:
        return _ciphers()

    def _cipher(self, pk: int) -> AESGCM | None:
        if pk not in self._ciphers:
            data_key = DataKey.objects.filter(pk=pk).first()
            self._ciphers[pk] = AESGCM(_unwrap(data_key, self._masters)) if data_key else None
        return self._ciphers[pk]

    def open(self, value):
        """The value `value` sealed, ERASED once its key is gone; anything else as it is."""
        if not is_sealed(value):
            return value
        key_id, _, body = value[len(PREFIX) :].partition(":")
        cipher = self._cipher(int(key_id))
        if cipher is None:
            return ERASED
        sealed = base64.b64decode(body)
        try:
            plain = cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], key_id.encode())
        except InvalidTag:  # altered: the chain's verification reports which entry
            return UNREADABLE
        return json.loads(plain)

    def open_values(self, values: dict) -> dict:
        return {name: self.open(value) for name, value in (values or {}).items()}
