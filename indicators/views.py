"""The statistics' screens: the dashboard of one's scope (nation, region or organisation), each chart's data as
CSV or XLSX with the same filters, and the public open data."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import condition

from clea_platform import spreadsheets
from clea_platform.tenancy import membership_required
from indicators import open_data
from indicators.charts import FUNNEL_LABELS, charts
from indicators.forms import FiltersForm
from indicators.selectors import FUNNEL, Scope, dashboard, scope_for

FORMATS = ("csv", "xlsx")


def _scope(request: HttpRequest) -> Scope:
    scope = scope_for(request.membership)  # type: ignore[attr-defined]
    if scope is None:
        raise PermissionDenied
    return scope


def _form(request: HttpRequest, scope: Scope) -> FiltersForm:
    params = {k: v for k, v in request.GET.items() if k != "format" and v}
    form = FiltersForm(params or None, scope=scope)
    if params:
        form.is_valid()
    return form


@membership_required()
def dashboard_view(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = _form(request, scope)
    board = dashboard(scope, form.filters())
    query = request.GET.urlencode()
    return render(
        request,
        "indicators/dashboard.html",
        {
            "scope": scope,
            "form": form,
            "board": board,
            "charts": charts(board),
            "query": query,
            "prior_rate": None if board.prior_rate is None else round(100 * board.prior_rate, 1),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@membership_required()
def chart_download(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    """Exactly the rows of one chart's table, with the page's filters."""
    if fmt not in FORMATS:
        raise Http404
    scope = _scope(request)
    form = _form(request, scope)
    chart = next((c for c in charts(dashboard(scope, form.filters())) if c.key == key), None)
    if chart is None:
        raise Http404
    if fmt == "csv":
        content = spreadsheets.to_csv(chart.headers, chart.rows)
    else:
        content = spreadsheets.to_xlsx(chart.headers, chart.rows, title=chart.title)
    return spreadsheets.attachment(content, fmt, f"statistiques-{key}-{timezone.localdate():%Y-%m-%d}")


# -- Open data: public, computed at most once an hour, cacheable by browsers and proxies ------------------------

OPEN_DATA_SECONDS = 60 * 60


def _open_data(kind: str) -> tuple[bytes, str]:
    """The file's bytes and when they were computed (cached for an hour: every request reads the same)."""

    def compute() -> tuple[bytes, str]:
        labels = [str(FUNNEL_LABELS[key]) for key in FUNNEL]
        if kind == "national":
            headers = [_("Mois d'ouverture"), _("Territoire"), *labels]
            rows = [[f"{m:%Y-%m}", "France", *(c[k] for k in FUNNEL)] for m, c in open_data.monthly_national()]
        else:
            headers = [_("Mois d'ouverture"), _("Code région"), _("Région"), *labels]
            rows = [
                [f"{m:%Y-%m}", r, open_data.region_name(r), *(c[k] for k in FUNNEL)]
                for m, r, c in open_data.monthly_regional()
            ]
        return spreadsheets.to_csv(headers, rows), http_date()

    return cache.get_or_set(f"indicators:open-data:{kind}", compute, OPEN_DATA_SECONDS)


def _etag(request: HttpRequest, kind: str) -> str:
    return hashlib.sha256(_open_data(kind)[0]).hexdigest()[:32]


def open_data_index(request: HttpRequest) -> HttpResponse:
    return render(request, "indicators/open_data.html", {"small_cell": open_data.SMALL_CELL})


@condition(etag_func=_etag)
def open_data_file(request: HttpRequest, kind: str) -> HttpResponse:
    content, computed = _open_data(kind)
    response = HttpResponse(content, content_type=spreadsheets.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="clea-parcours-mensuel-{kind}.csv"'
    response["Last-Modified"] = computed
    response["Cache-Control"] = f"public, max-age={OPEN_DATA_SECONDS}"
    return response
