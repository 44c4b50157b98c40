from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RefundsConfig(AppConfig):
    name = "refunds"
    verbose_name = "Refunds"

    def ready(self):
        post_migrate.connect(_keep_roles_exact, sender=self)


def _keep_roles_exact(sender, **kwargs):
    """After every migrate (refunds is the last app, so every permission exists by
    now): the staff roles hold exactly their SPEC §5 permissions, including the view
    permissions of models added since the roles were created."""
    from .roles import roles_sync

    roles_sync()
