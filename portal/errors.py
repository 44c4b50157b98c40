"""The one exception for "refused, nothing changed"."""


class Refused(Exception):
    """A service refused the request and changed nothing; the message says why in plain
    words, for the person who asked. Every service's refusal subclasses this, so views
    (`portal.middleware.RefusedMiddleware`) and admin actions catch it in one place."""
