"""The one exception for "refused, nothing changed"."""

import logging


class Refused(Exception):
    """A service refused the request and changed nothing; the message says why in plain
    words, for the person who asked. Every service's refusal subclasses this, so views
    (`portal.middleware.RefusedMiddleware`) and admin actions catch it in one place.

    Each refusal is logged where it is raised, by the raising module's logger; `ids` name
    what was refused (`refund=12`, `account="100-0042"`) and land as structured fields of
    the log line (JSON in production), so a log search finds every refusal for one record.
    """

    def __init__(self, message: object = "", **ids: object) -> None:
        super().__init__(message)
        self.ids = ids
        logging.getLogger(type(self).__module__).info(
            "%s: %s", type(self).__name__, message, extra={"refusal": type(self).__name__, **ids}
        )
