"""Small helpers the tests share: TOTP codes and links out of emails."""

import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code(secret, at=None):
    """The six-digit code an authenticator app would show for `secret` now."""
    counter = int((at or time.time()) // 30)
    return format_hotp_value(hotp_value(secret, counter))


def link_in(message):
    """The first portal link in an email body."""
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
