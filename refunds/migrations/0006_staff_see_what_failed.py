"""Support, Refund operations and Auditor see held funds (N4), the emails to holders and
the background tasks, failed ones included (SPEC §5; `refunds.roles`)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from refunds.roles import roles_sync


def sync_roles(apps, schema_editor):
    # Permissions are normally created after the last migration; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
        ("refunds", "0005_card_retries_held_funds_notices"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
