"""The card processor, behind a small interface chosen by the `CARD_GATEWAY` setting.

A real processor client is a class with the same `refund` method that calls the
processor's refund API with `idempotency_key`, so a retried call after a crash returns
the first result instead of refunding twice. It is called with no transaction open, and
must give up (raise `CardGatewayUnavailable`) well within the attempt's lease
(setting `CARD_REFUND_SUBMIT_LEASE_MINUTES`). `FakeCardGateway` stands in for it in
development and tests (there is no network here).
"""

import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class CardRefundDeclined(Exception):
    """The processor refused for good (card closed, expired, declined): send a check."""


class CardGatewayUnavailable(Exception):
    """The processor could not be reached or answered with a temporary error: retry."""


@dataclass(frozen=True)
class CardRefundResult:
    processor_reference: str


class FakeCardGateway:
    """In-memory processor. Tokens containing `declined`, `closed` or `expired` are
    refused; `unavailable` fails as a temporary error. Remembers idempotency keys."""

    _lock = threading.Lock()
    calls: list = []
    _results: dict = {}

    def refund(self, *, idempotency_key: str, card_token: str, amount_cents: int):
        with self._lock:
            self.calls.append((idempotency_key, card_token, amount_cents))
            if idempotency_key in self._results:
                return self._results[idempotency_key]
            for word in ("declined", "closed", "expired"):
                if word in card_token:
                    raise CardRefundDeclined(f"Card {word}")
            if "unavailable" in card_token:
                raise CardGatewayUnavailable("Processor unavailable")
            result = CardRefundResult(processor_reference=f"fake_re_{len(self._results) + 1:06d}")
            self._results[idempotency_key] = result
            return result

    @classmethod
    def reset(cls):
        with cls._lock:
            cls.calls.clear()
            cls._results.clear()

    @classmethod
    def refunds_made(cls) -> int:
        return len(cls._results)


def get_card_gateway():
    path = getattr(settings, "CARD_GATEWAY", "refunds.gateway.FakeCardGateway")
    return import_string(path)()
