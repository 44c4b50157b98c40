"""Structured logging: every refused move is logged where it is raised, with its ids.

Production writes one JSON object per line (python-json-logger, see
`portal.settings.prod`); development prints plain lines. The ids passed to a refusal
land as fields of that JSON object (`extra`), so a log search can find every refusal
for one account, closure or refund.
"""

import logging


class LoggedRefusal(Exception):
    """A service refused a move and nothing changed; logged by the raising module's logger.

    `ids` name what was refused (`refund=12`, `account="100-0042"`); they are kept on the
    exception and logged as structured fields.
    """

    def __init__(self, message: object = "", **ids: object) -> None:
        super().__init__(message)
        self.ids = ids
        logging.getLogger(type(self).__module__).info(
            "%s: %s",
            type(self).__name__,
            message,
            extra={"refusal": type(self).__name__, **ids},
        )
