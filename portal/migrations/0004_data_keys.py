"""rule B7: per-holder data keys; personal values in the audit trail are sealed from here.

Entries already written cannot be changed (the trail is append-only and chained), so they
stay as they are. This migration appends a keyed marker after them that counts them and
names the last one: the trail records where sealing starts. README, "Erasure", says how
those earlier entries are handled. A database with no entries gets no marker. Needs
AUDIT_HMAC_KEYS.
"""

import django.db.models.deletion
from django.conf import settings

from django.db import migrations, models
from django.utils import timezone


def mark_sealing_started(apps, schema_editor):
    from portal.audit import audit_mark_sealing_started

    audit_mark_sealing_started(event_model=apps.get_model("portal", "AuditEvent"), at=timezone.now())



class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0003_audit_keyed_chain'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='object_repr',
            field=models.CharField(max_length=640, verbose_name='object'),
        ),
        migrations.CreateModel(
            name='DataKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('identity', 'Sign-in identity'), ('records', 'Names and addresses on records')], max_length=8)),
                ('wrapped', models.BinaryField()),
                ('master_key_id', models.CharField(max_length=16)),
                ('created_at', models.DateTimeField()),
                ('holder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('holder', 'purpose'), name='portal_one_data_key')],
            },
        ),
        migrations.RunPython(mark_sealing_started, migrations.RunPython.noop),
    ]
