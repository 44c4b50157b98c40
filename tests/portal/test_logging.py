"""Structured logs: refused moves and calls out (processor, email) carry their ids."""

import importlib
import json
import logging
import logging.config
import sys

import pytest
from django.core import mail

from portal.actors import SYSTEM
from refunds.emails import send_holder_email
from refunds.models import Refund
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit
from refunds.services.transitions import TransitionRefused, refund_mark_cashed
from refunds.tasks import holder_email_of
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.factories.refunds import ClosureFactory, RefundFactory

pytestmark = pytest.mark.django_db


def records(caplog, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


def test_a_refused_move_is_logged_with_the_refund_id(caplog):
    refund = RefundFactory()  # a pending check
    with caplog.at_level(logging.INFO), pytest.raises(TransitionRefused):
        refund_mark_cashed(refund=refund, actor=SYSTEM)
    (record,) = records(caplog, "refunds.services.transitions")
    assert record.refusal == "TransitionRefused"
    assert record.refund == refund.pk
    assert "cannot be marked cashed" in record.getMessage()


def test_a_card_refund_call_is_logged_with_its_idempotency_key_and_answer(caplog):
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=4250, processor_token="tok_visa_ok")
    refund = closure_confirm(account=ac.account, actor=SYSTEM).refunds.get()
    with caplog.at_level(logging.INFO):
        refund = card_refund_submit(refund_id=refund.pk)
    assert refund.status == Refund.Status.SUBMITTED
    calls = records(caplog, "refunds.gateway")
    assert [record.getMessage() for record in calls] == [
        "Card refund call to the processor",
        "Card refund made",
    ]
    assert {record.idempotency_key for record in calls} == {f"refund-{refund.pk}"}
    assert calls[1].processor_reference == refund.processor_reference
    assert all("tok_visa_ok" not in str(record.__dict__) for record in calls)


def test_an_email_send_is_logged_with_the_holder_and_template(caplog):
    closure = ClosureFactory()
    user = closure.account.holder
    with caplog.at_level(logging.INFO):
        send_holder_email(**holder_email_of(closure))
    assert len(mail.outbox) == 1
    sent = records(caplog, "refunds.emails")
    assert [(r.getMessage(), r.user, r.template) for r in sent] == [
        ("Sending an email to a holder", user.pk, "closure_confirmed"),
        ("Email to a holder sent", user.pk, "closure_confirmed"),
    ]


def test_production_logs_are_json_lines_with_the_ids_as_fields(monkeypatch):
    for name, value in {
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "portal.example.org",
        "CARD_GATEWAY": "refunds.gateway.FakeCardGateway",
        "AUDIT_HMAC_KEYS": "k1:secret",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "portal.settings.prod", raising=False)
    prod = importlib.import_module("portal.settings.prod")
    console = prod.LOGGING["handlers"]["console"]
    spec = dict(prod.LOGGING["formatters"][console["formatter"]])
    formatter = logging.config.DictConfigurator({}).configure_formatter(spec)
    record = logging.LogRecord(
        "refunds.services.transitions", logging.INFO, __file__, 1, "Refused: %s", ("why",), None
    )
    record.refund = 12
    line = json.loads(formatter.format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "refunds.services.transitions"
    assert line["message"] == "Refused: why"
    assert line["refund"] == 12
    assert "time" in line
