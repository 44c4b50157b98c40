"""The visitor's real address behind a proxy (issue 9): sign-in lockouts and the portal's
own rate limits count the visitor, not the proxy, through allauth's one client-IP
function; without a trusted proxy, a spoofed X-Forwarded-For is ignored."""

import pytest
from django.test import override_settings
from django.urls import reverse

from portal.actors import SYSTEM
from refunds.services import closure_confirm
from tests.factories import PASSWORD, AdvanceConnectFactory, LedgerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
TOO_MANY = "Too many failed login attempts. Try again later."


def sign_in(client, email, password, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **headers)


def signed_in_as(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_five_bad_passwords_lock_out_only_that_visitor(client):
    mallory, alice = UserFactory(), UserFactory()
    for _ in range(5):
        sign_in(
            client, mallory.email, "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5"
        )
    # Another visitor behind the same proxy signs in.
    sign_in(client, alice.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert signed_in_as(client, alice)
    client.logout()
    # The first visitor is locked out, even on another account (per client, not per proxy).
    other = UserFactory()
    blocked = sign_in(
        client, other.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert TOO_MANY in blocked.content.decode()
    assert not signed_in_as(client, other)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_the_client_address_is_read_from_the_right_of_x_forwarded_for(client):
    """A visitor cannot pick their address: only the entry our proxy appended counts."""
    mallory, victim = UserFactory(), UserFactory()
    for n in range(5):
        spoofed = f"192.0.2.{n}, 203.0.113.5"  # the left part is the visitor's own text
        sign_in(client, mallory.email, "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=spoofed)
    blocked = sign_in(
        client,
        victim.email,
        PASSWORD,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",
    )
    assert TOO_MANY in blocked.content.decode()


@override_settings(ALLAUTH_TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
def test_a_proxy_that_sets_one_header_with_the_client_address(client):
    mallory, alice = UserFactory(), UserFactory()
    for _ in range(5):
        sign_in(client, mallory.email, "wrong", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.5")
    sign_in(client, alice.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="198.51.100.9")
    assert signed_in_as(client, alice)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=0)
def test_a_direct_deployment_ignores_a_spoofed_x_forwarded_for(client):
    mallory, own_account = UserFactory(), UserFactory()
    for n in range(5):
        sign_in(
            client,
            mallory.email,
            "wrong",
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    blocked = sign_in(
        client,
        own_account.email,
        PASSWORD,
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert TOO_MANY in blocked.content.decode()
    assert not signed_in_as(client, own_account)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_the_refund_status_limits_count_the_visitor_behind_the_proxy(client):
    """The portal's own limits use the same client-IP function as sign-in."""
    ac = AdvanceConnectFactory(account__holder__last_name="Okafor")
    LedgerEntryFactory(advance_connect=ac, by_moneygram=True, amount_cents=3300)
    closure = closure_confirm(account=ac.account, actor=SYSTEM)

    def look_up(reference, visitor):
        return client.post(
            reverse("refund_status"),
            {"reference": reference, "zip_code": "78702", "last_name": "Okafor"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=visitor,
        )

    statuses = [look_up(f"CL-AAAA-{n:04d}", "203.0.113.5").status_code for n in range(21)]
    assert statuses[-1] == 429
    holder = look_up(closure.reference, "198.51.100.9")
    assert "refund-state" in holder.content.decode()
