from typing import Any, NoReturn, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditTrailIsAppendOnly(Exception):
    pass


_Row = TypeVar("_Row", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_Row]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("The audit trail cannot be changed.")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("The audit trail cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only audit trail (SPEC §5).

    Written by `portal.audit.audit_record` in the same transaction as the change it
    describes, with an HMAC of itself (its id included) under the key `key_id` names;
    `AuditSeal` links the entries into a chain after they commit (see `portal.audit`).
    """

    occurred_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        db_index=False,  # `portal_audit_actor_id` below leads with it
    )
    actor_label = models.CharField(_("who (as recorded)"), max_length=254)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    # Up to 100 characters, sealed when they may name someone (portal.audit, rule B7).
    object_repr = models.CharField(_("object"), max_length=640)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    key_id = models.CharField(_("key id"), max_length=16)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # What one person did, in order: an auditor's search by email reads the page
            # straight off it (with the actor alone, 66,000 events were sorted, 54 ms).
            models.Index(fields=["actor", "id"], name="portal_audit_actor_id"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("An audit event is never changed once written.")
        # An INSERT even when the id is set (no UPDATE first: the app's role may not).
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("An audit event is never deleted.")


class AuditSeal(models.Model):
    """A link of the audit trail's chain (SPEC §5): the events `first_event_id` to
    `last_event_id` (`events` of them; `digest` the SHA-256 of their hashes in id order),
    chained to the seal before by `prev_hash` and signed by `hash`, an HMAC under the key
    `key_id` names. Written after the events commit by `portal.audit.audit_seal_pending`;
    `prev_hash` is unique, so the chain cannot fork."""

    first_event_id = models.BigIntegerField()
    last_event_id = models.BigIntegerField(unique=True)
    events = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, unique=True)
    sealed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "audit seal"

    def __str__(self) -> str:
        return f"seal {self.pk} (events {self.first_event_id}-{self.last_event_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("An audit seal is never changed once written.")
        # An INSERT even when the id is set (no UPDATE first: the app's role may not).
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("An audit seal is never deleted.")


class DataKey(models.Model):
    """A holder's data key for one erasure stage (rule B7), stored wrapped (AES-GCM) by a
    master key from the environment (`DATA_KEYS`) that the database never holds. The
    audit trail seals the holder's personal values with it; erasing the stage deletes
    the row, and what it sealed can never be read again (crypto-shredding)."""

    class Purpose(models.TextChoices):
        IDENTITY = "identity", "Sign-in identity"
        RECORDS = "records", "Names and addresses on records"

    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "purpose"], name="portal_one_data_key")
        ]

    def __str__(self) -> str:
        return f"data key {self.pk} ({self.purpose})"
