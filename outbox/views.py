"""The operators' page (issue 13): the documents and e-mails that failed or wait too long, and their retry.

Certif'Pro sees every organisation's side effects, an organisation's administrator its own (the scoped queryset:
another organisation's row answers 404 like a missing one); the other roles get 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from organisations.models import Role
from outbox.forms import SideEffectFilterForm
from outbox.models import SideEffect, SideEffectState, overdue_after
from outbox.services import OutboxError, side_effect_retry

OPERATOR_ROLES = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
PAGE_SIZE = 50
# The query string the list understands: kept across pagination, and brought back after a retry.
LIST_PARAMETERS = ("state", "kind", "organisation", "page")


def _query(params: QueryDict, *, page: bool) -> str:
    kept = [key for key in LIST_PARAMETERS if page or key != "page"]
    return urlencode([(key, value) for key in kept if (value := params.get(key, "").strip())])


@membership_required(*OPERATOR_ROLES)
@require_GET
def side_effect_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    visible = SideEffect.objects.visible_to(membership)
    filters = SideEffectFilterForm(request.GET, with_organisation=membership.is_certifpro)
    side_effects = filters.filter(visible).select_related("organisation")
    page = Paginator(side_effects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outbox/side_effect_list.html",
        {
            "filters": filters,
            "page": page,
            "state": filters.chosen_state,
            "narrowed": filters.narrowed,
            "counts": visible.counts(),
            "overdue_minutes": int(overdue_after().total_seconds() // 60),
            "show_organisation": membership.is_certifpro,
            # Pagination links keep the filters; a retry brings the operator back to this very page.
            "query": _query(request.GET, page=False),
            "here": _query(request.GET, page=True),
        },
    )


@membership_required(*OPERATOR_ROLES)
@post_only(lambda request, pk: reverse("outbox:side_effect_list"))
def side_effect_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request.membership
    side_effect = get_object_or_404(SideEffect.objects.visible_to(membership), pk=pk)
    try:
        side_effect_retry(side_effect=side_effect, by=membership, request=request)
    except OutboxError as exc:
        messages.error(request, str(exc))
    else:
        _report_retry(request, side_effect)
    back = reverse("outbox:side_effect_list")
    query = _query(QueryDict(request.POST.get("query", "")), page=True)
    return redirect(f"{back}?{query}" if query else back)


def _report_retry(request: HttpRequest, side_effect: SideEffect) -> None:
    """Say where the retry stands now: where tasks run in the web process (the embedded mode), it has run."""
    side_effect.refresh_from_db()
    label = side_effect.label
    if side_effect.state == SideEffectState.DONE:
        messages.success(request, _("Relance de « %(label)s » : c'est fait.") % {"label": label})
    elif side_effect.attempts:
        when = formats.time_format(timezone.localtime(side_effect.available_at), "H:i")
        messages.warning(
            request,
            _(
                "Relance de « %(label)s » : la tentative a échoué de nouveau ; "
                "prochaine tentative automatique à %(time)s."
            )
            % {"label": label, "time": when},
        )
    else:
        messages.success(
            request,
            _("Relance de « %(label)s » demandée : elle sera traitée dans quelques instants.") % {"label": label},
        )
