"""/health/ for load balancers: database, cache and task backlog, ok or failing each."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

pytestmark = pytest.mark.django_db(transaction=True)

ALL_OK = {"status": "ok", "checks": {"database": "ok", "cache": "ok", "task_backlog": "ok"}}


def get_health(client):
    """GET /health/ (an async view) from a thread of its own: the browser tests leave an event
    loop running in the main thread, where Django cannot run an async view synchronously."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(client.get, reverse("health")).result()


def ready_task(*, enqueued_minutes_ago: int, run_after: dt.datetime | None = None):
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {"notice_id": 1}},
        task_path="refunds.tasks.holder_notice_send",
        backend_name="default",
        run_after=run_after or get_date_max(),
        exception_class_path="",
        traceback="",
    )
    enqueued_at = timezone.now() - dt.timedelta(minutes=enqueued_minutes_ago)
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=enqueued_at)
    return task


def test_health_answers_ok_without_signing_in(client):
    response = get_health(client)
    assert response.status_code == 200
    assert response.json() == ALL_OK


def test_a_fresh_or_future_task_is_no_backlog(client, settings):
    settings.TASK_BACKLOG_MAX_MINUTES = 15
    ready_task(enqueued_minutes_ago=5)
    ready_task(enqueued_minutes_ago=60, run_after=timezone.now() + dt.timedelta(hours=1))
    assert get_health(client).json() == ALL_OK


def test_a_task_waiting_too_long_makes_health_fail_without_details(client, settings):
    settings.TASK_BACKLOG_MAX_MINUTES = 15
    ready_task(enqueued_minutes_ago=20)
    response = get_health(client)
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "ok", "task_backlog": "failing"},
    }


def test_a_task_due_long_ago_makes_health_fail(client, settings):
    settings.TASK_BACKLOG_MAX_MINUTES = 15
    ready_task(enqueued_minutes_ago=120, run_after=timezone.now() - dt.timedelta(minutes=30))
    assert get_health(client).json()["checks"]["task_backlog"] == "failing"


def test_a_broken_cache_fails_its_component_and_says_no_more(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("cache host 10.0.0.7 refused the connection")

    monkeypatch.setattr(type(caches["default"]), "aset", refuse)
    response = get_health(client)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "failing", "task_backlog": "ok"}
    assert b"10.0.0.7" not in response.content
