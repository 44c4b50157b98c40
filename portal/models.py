from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditTrailIsAppendOnly(Exception):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("The audit trail cannot be changed.")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("The audit trail cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail (SPEC §5).

    Written by `portal.audit.audit_record` in the same transaction as the change it
    describes; each entry carries the hash of the one before it, keyed with the HMAC
    key `key_id` names (see `portal.audit`).
    """

    occurred_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
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
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    key_id = models.CharField(_("key id"), max_length=16)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditTrailIsAppendOnly("An audit event is never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("An audit event is never deleted.")


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
