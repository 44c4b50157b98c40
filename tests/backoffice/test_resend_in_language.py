"""Rule B5: the back office shows each holder's language, and staff who write to holders
send any email again in that language; auditors cannot."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from refunds.roles import AUDITOR, SUPPORT
from tests.factories.refunds import ClosureFactory, HolderNoticeFactory

pytestmark = pytest.mark.django_db

CLOSURES = reverse("admin:refunds_closure_changelist")
NOTICES = reverse("admin:refunds_holdernotice_changelist")


def resend(client, url, *records):
    return client.post(
        url, {"action": "resend", "_selected_action": [r.pk for r in records]}, follow=True
    )


def test_support_resends_a_closure_confirmation_in_spanish(signed_in):
    client = signed_in(SUPPORT)
    closure = ClosureFactory(account__holder__language="es", confirmation_emailed_at=timezone.now())
    listing = client.get(CLOSURES).content.decode()
    assert "holder&#x27;s language" in listing or "holder's language" in listing
    assert '<td class="field-holder_language">es</td>' in listing

    page = resend(client, CLOSURES, closure)
    assert "Sent 1 of 1 again, each in the holder&#x27;s language." in page.content.decode()
    (email,) = mail.outbox
    assert email.subject.endswith(f"Su cuenta está cerrada: referencia {closure.reference}")
    event = AuditEvent.objects.get(action="email.resent")
    assert event.after == {"template": "closure_confirmed", "language": "es"}


def test_an_email_not_sent_yet_is_left_to_the_retry_job(signed_in):
    client = signed_in(SUPPORT)
    notice = HolderNoticeFactory()
    page = resend(client, NOTICES, notice).content.decode()
    assert "has not been sent yet; the retry job will send it." in page
    assert mail.outbox == [] and not AuditEvent.objects.filter(action="email.resent").exists()


def test_auditors_see_the_language_but_cannot_resend(signed_in):
    client = signed_in(AUDITOR)
    notice = HolderNoticeFactory(sent=True)
    listing = client.get(NOTICES).content.decode()
    assert "field-holder_language" in listing and 'value="resend"' not in listing
    resend(client, NOTICES, notice)
    assert mail.outbox == []
