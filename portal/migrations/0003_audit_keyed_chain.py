"""SPEC §5: audit entries are keyed (HMAC, key from the environment) from here on.

Entries already written keep their plain SHA-256 hashes and get the key id `sha256`; they
are not re-chained (events are never updated). Right after them this migration appends a
keyed marker that links to the last of them and counts them, so the verifier accepts unkeyed
entries only there: one added later, or a chain recomputed into unkeyed entries, is reported
(see `portal.audit`). A database with no entries gets no marker. Needs AUDIT_HMAC_KEYS.
"""

from django.db import migrations, models
from django.utils import timezone


def close_unkeyed_chain(apps, schema_editor):
    from portal.audit import audit_chain_close_unkeyed

    audit_chain_close_unkeyed(event_model=apps.get_model("portal", "AuditEvent"), at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0002_audit_trail_append_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='key_id',
            field=models.CharField(default='sha256', max_length=16, verbose_name='key id'),
            preserve_default=False,
        ),
        migrations.RunPython(close_unkeyed_chain, migrations.RunPython.noop),
    ]
