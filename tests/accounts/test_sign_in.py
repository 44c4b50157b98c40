import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory
from tests.factories.refunds import ClosureFactory
from tests.helpers import link_in, totp_code

pytestmark = pytest.mark.django_db

SECRET = "63KKWBVYI7WBCHAEZFFTJML44ZVL2PAX"  # 160 bits, as RFC 4226 recommends


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_sign_up_needs_the_emailed_link_before_sign_in(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.test"]
    address = EmailAddress.objects.get(email="new@example.test")
    assert not address.verified

    client.logout()
    blocked = sign_in(client, "new@example.test")
    assert blocked.url == reverse("account_email_verification_sent")

    confirm_url = link_in(mail.outbox[0])
    client.post(confirm_url)
    address.refresh_from_db()
    assert address.verified
    client.logout()
    assert sign_in(client, "new@example.test").url == reverse("accounts:my_account")


def test_sign_in_lands_on_my_account(client):
    user = UserFactory()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.url == reverse("accounts:my_account")
    page = client.get(response.url)
    assert user.email in page.content.decode()


def test_wrong_password_says_so_and_signs_nobody_in(client):
    user = UserFactory()
    response = sign_in(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_passwords_are_rate_limited(client):
    user = UserFactory()
    for _ in range(5):
        sign_in(client, user.email, "wrong")
    response = sign_in(client, user.email, PASSWORD)
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email_link(client):
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    reset_url = link_in(mail.outbox[0])
    form_page = client.get(reset_url, follow=True)
    key_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_url
    done = client.post(
        key_url, {"password1": "brand-new-secret-77", "password2": "brand-new-secret-77"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-77")


def test_holder_turns_on_totp_from_security_then_needs_a_code(client):
    user = UserFactory()
    sign_in(client, user.email)
    security = client.get(reverse("accounts:settings_security"))
    assert reverse("mfa_index") in security.content.decode()

    asked = client.get(reverse("mfa_activate_totp"))
    assert asked.url.startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()

    client.logout()
    first_step = sign_in(client, user.email)
    assert first_step.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.url == reverse("accounts:my_account")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_totp_code_keeps_the_holder_out(client):
    user = UserFactory()
    TOTP.activate(user, SECRET)
    sign_in(client, user.email)
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_recovery_code_signs_in_once(client):
    user = UserFactory()
    TOTP.activate(user, SECRET)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    sign_in(client, user.email)
    done = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert done.url == reverse("accounts:my_account")

    client.logout()
    sign_in(client, user.email)
    reused = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert reused.status_code == 200
    assert "_auth_user_id" not in client.session


def test_staff_without_mfa_is_sent_to_set_it_up_before_any_admin_page(client):
    staff = UserFactory(staff=True, is_superuser=True)
    sign_in(client, staff.email)
    for path in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("mfa_activate_totp"))


def test_staff_with_mfa_reaches_the_admin(client):
    staff = UserFactory(staff=True, is_superuser=True)
    TOTP.activate(staff, SECRET)
    sign_in(client, staff.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_goes_through_allauth(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_holder_is_not_let_into_the_admin(client):
    user = UserFactory()
    sign_in(client, user.email)
    response = client.get(reverse("admin:index"))
    assert response.status_code in (302, 403)
    assert User.objects.get(pk=user.pk).is_staff is False


# --- after closing: one answer for a closed holder; staff land in the back office ---


def staff_lands_in_the_back_office(client):
    staff = UserFactory(staff=True)
    TOTP.activate(staff, SECRET)
    sign_in(client, staff.email)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)})
    return response


def test_staff_signing_in_on_the_portal_page_land_in_the_back_office(client):
    response = staff_lands_in_the_back_office(client)
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_holders_still_land_on_my_account(client):
    assert sign_in(client, UserFactory().email).url == reverse("accounts:my_account")


@pytest.fixture
def closed_holder():
    closure = ClosureFactory()
    holder = closure.account.holder
    holder.is_active = False
    holder.save(update_fields=["is_active"])
    return closure


def visitor_page(response):
    """What the web visitor sees, without anything that differs per address."""
    return response.status_code, response.get("Location")


def test_a_closed_holder_gets_one_answer_to_sign_up_and_to_reset(client, closed_holder):
    """Sign-up and password reset of a closed holder's email: the same "your account is
    closed" email with the status link and the phone number; the visitor sees the same
    page as for any other address (no enumeration)."""
    email = closed_holder.account.holder.email
    reference = closed_holder.reference
    link = f"/refund-status/?reference={reference}"

    signup = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    reset = client.post(reverse("account_reset_password"), {"email": email})
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.to == [email]
        assert "Your account is closed" in message.subject
        assert reference in message.body and link in message.body
        assert "have the ZIP code of your address and your last name ready" in message.body
        assert "1-800-844-6591" in message.body
    assert mail.outbox[0].body.split("\n", 1)[1] == mail.outbox[1].body.split("\n", 1)[1]

    # The pages are those any address gets: a stranger's sign-up and reset look the same.
    mail.outbox.clear()
    client.logout()
    other_signup = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    other_reset = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})
    assert visitor_page(signup) == visitor_page(other_signup)
    assert visitor_page(reset) == visitor_page(other_reset)
    assert "Your account is closed" not in "".join(m.subject for m in mail.outbox)


def test_a_closed_holder_signing_in_sees_the_status_link_with_the_reference(client, closed_holder):
    response = sign_in(client, closed_holder.account.holder.email)
    page = client.get(response.url).content.decode()
    assert "This account is closed" in page
    assert f'href="/refund-status/?reference={closed_holder.reference}"' in page
    assert '<a class="text-nowrap" href="tel:18008446591">1-800-844-6591</a>' in page


def test_a_wrong_password_for_a_closed_holder_reveals_no_reference(client, closed_holder):
    response = sign_in(client, closed_holder.account.holder.email, "not-the-password")
    assert closed_holder.reference not in response.content.decode()
