"""The card processor, behind a small interface chosen by the `CARD_GATEWAY` setting.

A real processor client is a class with the same `refund` method that calls the
processor's refund API with `idempotency_key`, so a retried call after a crash returns
the first result instead of refunding twice. It is called with no transaction open, and
must give up (raise `CardGatewayUnavailable`) well within the attempt's lease
(setting `CARD_REFUND_SUBMIT_LEASE_MINUTES`). `FakeCardGateway` stands in for it in
development and tests (there is no network here).
"""

import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


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


class LoggedCardGateway:
    """Logs every call to the processor client it wraps, with the idempotency key (which
    names the refund) and the answer; never the card token."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def refund(self, *, idempotency_key: str, card_token: str, amount_cents: int) -> Any:
        ids = {"idempotency_key": idempotency_key, "amount_cents": amount_cents}
        logger.info("Card refund call to the processor", extra=ids)
        try:
            result = self.gateway.refund(
                idempotency_key=idempotency_key, card_token=card_token, amount_cents=amount_cents
            )
        except (CardRefundDeclined, CardGatewayUnavailable) as exc:
            logger.warning(
                "Card refund not made: %s",
                exc,
                extra={**ids, "error": type(exc).__name__},
            )
            raise
        logger.info(
            "Card refund made",
            extra={**ids, "processor_reference": result.processor_reference},
        )
        return result


def get_card_gateway() -> LoggedCardGateway:
    path = getattr(settings, "CARD_GATEWAY", "refunds.gateway.FakeCardGateway")
    return LoggedCardGateway(import_string(path)())
