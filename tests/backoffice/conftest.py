import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group
from django.urls import reverse

from refunds.models import ExportRun
from tests.factories import UserFactory

TOTP_SECRET = "63KKWBVYI7WBCHAEZFFTJML44ZVL2PAX"  # 160 bits, as RFC 4226 recommends


@pytest.fixture
def staff(db):
    """Make a staff member with TOTP (staff without MFA are sent to set it up) in a
    role (the groups come from migrating the test database)."""

    def _staff(role=None, **fields):
        user = UserFactory(staff=True, **fields)
        TOTP.activate(user, TOTP_SECRET)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return _staff


@pytest.fixture
def signed_in(client, staff):
    """A test client signed in as a new staff member of `role`."""

    def _signed_in(role=None, **fields):
        client.force_login(staff(role, **fields))
        return client

    return _signed_in


@pytest.fixture
def export_file(django_capture_on_commit_callbacks):
    """Rule S5.exports: ask for an export the back office writes in the background (the
    immediate task backend runs the task once the record commits), and download its
    file as the auditor who asked for it."""

    def _export_file(client, **form):
        with django_capture_on_commit_callbacks(execute=True):
            asked = client.post(reverse("admin:refunds_exportrun_export"), form)
        run = ExportRun.objects.latest("id")
        assert asked.status_code == 302, asked.content
        assert asked["Location"] == reverse("admin:refunds_exportrun_file", args=[run.pk])
        return client.get(reverse("admin:refunds_exportrun_download", args=[run.pk]))

    return _export_file
