"""How long a sign-in lasts, and the headers of a money portal (issue 9): staff idle 30
minutes and 12 hours in all, holders idle 15 minutes; no-store on everything personal;
a Permissions-Policy everywhere."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from refunds.roles import AUDITOR
from tests.factories import AdvanceConnectFactory
from tests.factories.refunds import ClosureFactory

pytestmark = pytest.mark.django_db

MY_ACCOUNT = reverse("accounts:my_account")
ADMIN = reverse("admin:index")
SIGNED_IN_AT = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def at(moment):
    """Pin the clock that the sign-in and every later request read."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def after(**delta):
    return at(SIGNED_IN_AT + dt.timedelta(**delta))


@pytest.fixture
def holder_client(client):
    """A holder signed in at SIGNED_IN_AT."""
    with at(SIGNED_IN_AT):
        client.force_login(AdvanceConnectFactory().account.holder)
    return client


@pytest.fixture
def staff_client(client, staff):
    """An auditor signed in at SIGNED_IN_AT."""
    with at(SIGNED_IN_AT):
        client.force_login(staff(AUDITOR))
    return client


def is_signed_in(client, url=MY_ACCOUNT) -> bool:
    return client.get(url).status_code == 200


def test_a_holder_is_signed_out_after_15_minutes_idle(holder_client):
    with after(minutes=14, seconds=50):
        assert is_signed_in(holder_client)
    with after(minutes=29, seconds=40):  # 14 min 50 s after the last page: still in
        assert is_signed_in(holder_client)
    with after(minutes=45):
        response = holder_client.get(MY_ACCOUNT)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    page = holder_client.get(response.url).content.decode()
    assert "You were signed out after 15 minutes without activity." in page


def test_a_one_minute_limit_is_said_in_the_singular(holder_client, settings):
    settings.HOLDER_SESSION_IDLE_SECONDS = 60
    with after(minutes=2):
        response = holder_client.get(MY_ACCOUNT)
    page = holder_client.get(response.url).content.decode()
    assert "You were signed out after 1 minute without activity." in page


def test_staff_stay_signed_in_for_30_minutes_idle_but_not_31(staff_client):
    with after(minutes=29):
        assert is_signed_in(staff_client, ADMIN)
    with after(minutes=29 + 31):
        response = staff_client.get(ADMIN)
    assert response.status_code == 302
    assert not is_signed_in(staff_client, ADMIN)


def test_staff_are_signed_out_after_12_hours_even_when_active(client, staff, settings):
    settings.SESSION_COOKIE_AGE = 14 * 24 * 3600  # the limit holds whatever the cookie says
    with at(SIGNED_IN_AT):
        client.force_login(staff(AUDITOR))
    for minutes in range(20, 12 * 60, 20):
        with after(minutes=minutes):
            assert is_signed_in(client, ADMIN), f"signed out after {minutes} minutes"
    with after(hours=12, minutes=1):
        assert not is_signed_in(client, ADMIN)


def test_a_new_sign_in_starts_new_clocks(client, staff):
    user = staff(AUDITOR)
    with at(SIGNED_IN_AT):
        client.force_login(user)
    with after(hours=11, minutes=50):
        client.force_login(user)
    with after(hours=12, minutes=10):
        assert is_signed_in(client, ADMIN)


def test_every_answer_has_a_permissions_policy(client):
    policy = client.get(reverse("account_login"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


def test_signed_in_pages_and_the_records_download_are_never_stored(holder_client):
    for url in (MY_ACCOUNT, reverse("delete_account:records_csv")):
        with after(minutes=1):
            response = holder_client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_public_pages_are_never_stored_either(client):
    """The sign-in page holds a CSRF token and one-time messages: no browser or proxy
    keeps it."""
    for url in (reverse("account_login"), reverse("account_reset_password")):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_staff_pages_are_never_stored(staff_client):
    with after(minutes=1):
        response = staff_client.get(ADMIN)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_refund_status_answers_are_never_stored(client):
    """Rule B2: a status answer (found or not) is not kept by a browser or a proxy."""
    closure = ClosureFactory(account__holder__last_name="Okafor")
    url = reverse("refund_status")
    for last_name in ("Okafor", "Smith"):
        response = client.post(
            url, {"reference": closure.reference, "zip_code": "78702", "last_name": last_name}
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(url)["Cache-Control"]
    assert "no-store" in client.get(reverse("refund_claim"))["Cache-Control"]


def test_a_nul_byte_anywhere_is_a_plain_400_and_changes_nothing(staff_client):
    for url in (
        reverse("admin:refunds_refund_changelist") + "?status=a%00",
        reverse("admin:refunds_exportrun_changelist") + "?exporter=x%00",
        reverse("admin:refunds_refund_changelist") + "?q=%00",
    ):
        with after(minutes=1):
            response = staff_client.get(url)
        assert response.status_code == 400
        assert "cannot be typed (a NUL byte). Nothing was changed." in response.content.decode()
