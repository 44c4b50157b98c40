"""The Delete Account pages, D1-D6, through the Django test client."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import MailingAddress
from portal.models import AuditEvent
from refunds.models import Closure, Refund
from tests.factories import (
    PASSWORD,
    AdvanceConnectFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    VideoSessionFactory,
    VideoSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def url(step):
    return reverse(f"delete_account:{step}")


@pytest.fixture
def card_holder():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=5000)
    LedgerEntryFactory(advance_connect=ac, settled_call=True, amount_cents=750)
    LedgerEntryFactory(advance_connect=ac, unsettled_call=True, amount_cents=315)
    return ac.account


@pytest.fixture
def mail_holder():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, by_mail=True, amount_cents=2000)
    return ac.account


def signed_in(client, account):
    client.force_login(account.holder)
    return client


def reauthenticate(client):
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})


def walk_to_confirm(client):
    client.post(url("review"))
    client.post(url("address"), {"action": "confirm"})


def test_security_page_offers_delete_account(client, card_holder):
    html = signed_in(client, card_holder).get(reverse("accounts:settings_security")).content
    assert reverse("delete_account:start").encode() in html
    assert b"Delete Account" in html


def test_review_shows_each_service_with_amount_method_and_date(client, card_holder):
    signed_in(client, card_holder)
    response = client.get(url("start"), follow=True)
    assert response.redirect_chain[-1][0] == url("review")
    html = response.content.decode()
    # rule D1: $50 - $7.50 settled = $42.50; less $3.15 unsettled = $39.35 to the card.
    assert "$42.50" in html and "-$3.15" in html and "$39.35" in html
    assert "Visa card ending 4242" in html
    due = response.context["plan"].refund.due_date
    assert due.strftime("%A, %B %-d, %Y") in html
    assert "up to one billing cycle" in html
    # Services the account lacks are not shown.
    assert "Direct Bill" not in html and "VideoConnect" not in html
    assert "Securus Debit" not in html


def test_steps_cannot_be_skipped_and_land_on_the_right_page(client, card_holder):
    signed_in(client, card_holder)
    assert client.get(url("confirm")).url == url("review")
    assert client.get(url("address")).url == url("review")
    client.post(url("review"))
    assert client.get(url("confirm")).url == url("address")
    # A step the account does not need sends the holder where they should be.
    assert client.get(url("video")).url == url("address")
    # Going back is always allowed.
    assert client.get(url("review")).status_code == 200


def test_address_step_says_in_bold_that_the_check_goes_there(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    html = client.get(url("address")).content.decode()
    assert '<p class="fw-bold" id="check-warning">' in html
    assert "1200 E 6TH ST" in html


def test_confirming_the_address_records_when(client, card_holder):
    signed_in(client, card_holder)
    client.post(url("review"))
    before = timezone.now()
    response = client.post(url("address"), {"action": "confirm"})
    assert response.url == url("confirm")
    address = MailingAddress.objects.get(account=card_holder)
    assert address.confirmed_at >= before


def test_a_bad_corrected_address_is_refused_in_plain_words_and_nothing_changes(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    response = client.post(
        url("address"),
        {"action": "check", "line1": "", "city": "Austin", "state": "XX", "zip_code": "7870"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Enter a zip code in the format XXXXX or XXXXX-XXXX." in html
    assert MailingAddress.objects.filter(account=mail_holder).count() == 1
    assert client.get(url("confirm")).url == url("address")


def test_a_corrected_address_is_the_one_the_check_goes_to(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    new = {"line1": "77 Oak Street", "line2": "Apt 2", "city": "El Paso", "state": "TX"}
    response = client.post(url("address"), {"action": "use_typed", "zip_code": "79901", **new})
    assert response.url == url("confirm")
    reauthenticate(client)
    client.post(url("confirm"))
    refund = Refund.objects.get()
    assert refund.method == Refund.Method.CHECK
    assert refund.address_lines() == ["77 OAK STREET", "APT 2", "EL PASO TX 79901"]
    closure = Closure.objects.get()
    assert closure.address.line1 == "77 OAK STREET"
    assert closure.address_confirmed_at is not None
    old = MailingAddress.objects.get(account=mail_holder, line1="1200 E 6TH ST")
    assert old.replaced_at is not None  # history kept


def test_usps_style_suggestion_is_offered_and_can_be_taken(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    typed = {
        "line1": "77 north Oak street",
        "line2": "apartment 2",
        "city": "El Paso",
        "state": "TX",
        "zip_code": "79901",
    }
    shown = client.post(url("address"), {"action": "check", **typed})
    assert shown.status_code == 200
    suggestion = shown.context["suggestion"]
    assert suggestion["line1"] == "77 N OAK ST"
    response = client.post(url("address"), {"action": "use_suggested", **typed})
    assert response.url == url("confirm")
    assert MailingAddress.objects.get(account=mail_holder, replaced_at=None).line1 == "77 N OAK ST"


def test_video_warning_lists_sessions_and_needs_the_acknowledgement(client, card_holder):
    session = VideoSessionFactory(
        account=card_holder, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    VideoSubscriptionFactory(account=card_holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    assert client.get(url("confirm")).url == url("video")
    html = client.get(url("video")).content.decode()
    assert session.incarcerated_name in html and "$12.95" in html
    assert "VideoConnect Monthly" in html
    refused = client.post(url("video"), {})
    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    assert client.get(url("confirm")).url == url("video")
    assert client.post(url("video"), {"acknowledge": "yes"}).url == url("confirm")


def test_a_session_booked_after_the_acknowledgement_needs_a_new_one(client, card_holder):
    VideoSessionFactory(account=card_holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    client.post(url("video"), {"acknowledge": "yes"})
    VideoSessionFactory(account=card_holder, starts_at=timezone.now() + dt.timedelta(days=8))
    assert client.get(url("confirm")).url == url("video")


def test_not_refundable_step_shows_debit_and_stamps(client, card_holder):
    SecurusDebitFactory(account=card_holder, balance_cents=3100)
    EMessagingFactory(account=card_holder, stamps=12)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    html = client.get(url("not_refundable")).content.decode()
    assert "$31.00" in html and "Luis Reyes" in html
    assert "eMessaging stamps" in html and ": 12" in html
    assert client.post(url("not_refundable")).url == url("confirm")


def test_confirm_needs_a_fresh_password(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    # force_login is not a fresh sign-in: allauth asks for the password again.
    response = client.post(url("confirm"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not Closure.objects.exists()
    reauthenticate(client)
    assert client.get(url("confirm")).status_code == 200


def test_confirm_closes_once_signs_out_and_shows_done(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    response = client.post(url("confirm"))
    assert response.url == url("done")
    closure = Closure.objects.get(account=card_holder)
    assert closure.reason == Closure.Reason.HOLDER_REQUEST
    assert closure.closed_by == card_holder.holder
    # D6: signed out, the reference and what happens next.
    assert "_auth_user_id" not in client.session
    done = client.get(url("done")).content.decode()
    assert closure.reference in done
    assert "$39.35" in done and "Visa card ending 4242" in done
    assert card_holder.holder.email in done
    # A resubmitted form or replayed request does not close anything again.
    again = client.post(url("confirm"))
    assert again.status_code == 302
    assert Closure.objects.count() == 1 and Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action="closure.confirmed").count() == 1


def test_the_holder_cannot_sign_in_after_closing(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    client.post(url("confirm"))
    response = client.post(
        reverse("account_login"),
        {"login": card_holder.holder.email, "password": PASSWORD},
        follow=True,
    )
    html = response.content.decode()
    assert "This account is closed" in html
    assert "1-800-844-6591" in html
    assert "_auth_user_id" not in client.session


def test_other_sessions_of_the_holder_end_at_closure(client, django_user_model, card_holder):
    from django.test import Client

    other_tab = Client()
    other_tab.force_login(card_holder.holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    client.post(url("confirm"))
    response = other_tab.get(reverse("accounts:my_account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_cancel_changes_nothing(client, card_holder):
    signed_in(client, card_holder)
    client.post(url("review"))
    response = client.post(url("cancel"))
    assert response.url == reverse("accounts:settings_security")
    assert client.get(url("start")).url == url("review")
    card_holder.refresh_from_db()
    assert card_holder.is_open


def test_records_download_has_deposits_and_calls(client, card_holder):
    signed_in(client, card_holder)
    response = client.get(url("records_csv"))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0] == "Date,Type,Description,Amount,Status"
    assert any("Deposit" in line and "50.00" in line and "Visa 4242" in line for line in lines)
    assert any("Call charge" in line and "-3.15" in line and "pending" in line for line in lines)


@pytest.mark.parametrize("step", ["review", "address", "confirm"])
def test_each_step_runs_in_a_bounded_number_of_queries(
    client, card_holder, django_assert_max_num_queries, step
):
    ac = card_holder.advance_connect
    LedgerEntryFactory.create_batch(200, advance_connect=ac, settled_call=True, amount_cents=1)
    signed_in(client, card_holder)
    if step != "review":
        client.post(url("review"))
    if step == "confirm":
        client.post(url("address"), {"action": "confirm"})
        reauthenticate(client)
    with django_assert_max_num_queries(25):
        assert client.get(url(step)).status_code == 200
