import datetime

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from clea_platform.celery import app as celery_app

BROKER_PROBE_TIMEOUT = 0.5


@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness, for an orchestrator's restart probe: the process answers. No I/O, so that a database or Redis
    outage never gets healthy web processes restarted in a loop."""
    return JsonResponse({"status": "ok"})


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    # One attempt of at most 0.5 s: a probe's own timeout is often 1 s (Kubernetes' default), and a slow answer
    # here would make the broker fatal again.
    timeouts = {"socket_connect_timeout": BROKER_PROBE_TIMEOUT, "socket_timeout": BROKER_PROBE_TIMEOUT}
    try:
        with celery_app.connection_for_write(connect_timeout=BROKER_PROBE_TIMEOUT, transport_options=timeouts) as conn:
            conn.ensure_connection(max_retries=0)
    except Exception:  # any failure means "down"; the reason goes to the broker's own monitoring
        return "down"
    return "ok"


@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness, for the load balancer: 200 when the database answers, 503 otherwise. The broker's state is
    reported but not fatal: without Redis the pages still work and documents are only delayed (issue 13), so a
    Redis outage must not pull the whole web tier out of the load balancer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = _broker_state()
    ready = checks["database"] == "ok"
    return JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)


def ping(request: HttpRequest) -> HttpResponse:
    """The benchmarks' floor: the whole middleware stack (session, user, membership), no query of its own."""
    return HttpResponse("ok", content_type="text/plain")


# The day the declaration below was written from the audit of issue 15: change it with the declaration's text.
ACCESSIBILITY_DECLARATION_DATE = datetime.date(2026, 12, 2)


def accessibility(request: HttpRequest) -> HttpResponse:
    """The declaration of accessibility (RGAA 4.1 model), public and linked from every page's footer, as the law of
    11 February 2005 (article 47) asks of services of public interest."""
    return render(
        request,
        "accessibility.html",
        {
            "declared_on": ACCESSIBILITY_DECLARATION_DATE,
            "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
        },
    )
