import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.helpers import totp_code

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(transactional_db):
    """The demo data of `make run`, loaded into the test database."""
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def sign_in(page, live_server):
    def _sign_in(email, password=DEMO_PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()

    return _sign_in


@pytest.fixture
def no_serious_axe_violations(page):
    """Run axe on the current page; fail on serious or critical violations."""
    axe = Axe()

    def _check(where=""):
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"{where}: {bad}"

    return _check


@pytest.fixture
def staff_sign_in(page, live_server, sign_in):
    def _staff_sign_in(email):
        page.context.clear_cookies()
        sign_in(email)
        page.locator('input[name="code"]').fill(totp_code(DEMO_TOTP_SECRET))
        # Staff land in the back office once the code is taken; wait for that page rather
        # than navigating while the code is still being checked (a race on a busy machine).
        page.locator('input[name="code"]').press("Enter")
        expect(page).to_have_url(re.compile(r"/admin/$"), timeout=15_000)
        expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    return _staff_sign_in
