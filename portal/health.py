"""`/health/` for load balancers and monitors (django-health-check): the database, the
cache and the task backlog, each reported only as "ok" or "failing" (the reasons go to the
log, never to the caller, who needs no sign-in)."""

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class TaskBacklog(HealthCheck):
    """Failing when a database task has been ready to run for longer than
    `TASK_BACKLOG_MAX_MINUTES`: no `db_worker` is keeping up (or none is running)."""

    def run(self) -> None:
        cutoff = timezone.now() - dt.timedelta(minutes=settings.TASK_BACKLOG_MAX_MINUTES)
        waiting_since_enqueued = Q(run_after=get_date_max(), enqueued_at__lt=cutoff)
        late = DBTaskResult.objects.ready().filter(waiting_since_enqueued | Q(run_after__lt=cutoff))
        if late.exists():
            raise ServiceUnavailable("Tasks have waited too long for a worker")


class HealthView(HealthCheckView):
    components: dict[str, HealthCheck] = {
        "database": Database(),
        "cache": Cache(),
        "task_backlog": TaskBacklog(),
    }

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.components.values())
            )
        checks = {
            name: "failing" if result.error else "ok"
            for name, result in zip(self.components, results, strict=True)
        }
        healthy = "failing" not in checks.values()
        return JsonResponse(
            {"status": "ok" if healthy else "failing", "checks": checks},
            status=200 if healthy else 503,
        )
