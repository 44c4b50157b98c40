import io
import os
import shutil

import pytest
from django.core.cache import cache
from django.core.management import call_command

from refunds.gateway import FakeCardGateway

# Browser tests drive the live server from the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session", autouse=True)
def _translations_compiled():
    """Serve the Spanish catalogue as it stands in locale/, as `make install` does (B5)."""
    call_command("compile_translations", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _fresh_card_gateway():
    """The fake card processor remembers refunds in memory; each test starts clean."""
    FakeCardGateway.reset()
    yield
    FakeCardGateway.reset()


@pytest.fixture(autouse=True)
def _clear_cache():
    """allauth keeps rate-limit counters in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints_in_tmp(settings, tmp_path):
    """Sweeps write audit checkpoints (rule S5.audit); each test keeps its own, out of the tree."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Every browser test runs on a small phone screen (SPEC §1: works at 360 px)."""
    return {**browser_context_args, "viewport": {"width": 360, "height": 740}}
