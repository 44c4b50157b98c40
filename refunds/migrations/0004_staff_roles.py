"""Staff roles as auth groups (SPEC §5): Support, Refund operations, Auditor."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from refunds.roles import roles_sync


def create_roles(apps, schema_editor):
    # Permissions are normally created after the last migration; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    roles_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0003_support_note"),
        ("portal", "0002_audit_trail_append_only"),
        ("refunds", "0003_back_office"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
