import gc

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from . import lookups

        lookups.register()
        # What Django made while starting lives as long as the process: left out of the
        # collector's full passes, which otherwise walk it all again every few hundred
        # accounts of a sweep's batches (15% of its time).
        gc.freeze()
