"""The webhooks' screens (issue 20): an organisation's administrators manage their organisation's subscriptions,
Certif'Pro every organisation's (the scoped queryset: another organisation's subscription answers 404 like a missing
one); the other roles get 403."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from organisations.models import Role
from webhooks.forms import SubscriptionForm
from webhooks.models import WebhookAttempt, WebhookSubscription
from webhooks.services import (
    subscription_create,
    subscription_delete,
    subscription_pause,
    subscription_ping,
    subscription_resume,
    subscription_update,
)

MANAGERS = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
# The delivery log shows the latest deliveries, each with all its attempts (at most settings.WEBHOOK_MAX_ATTEMPTS).
LOG_SIZE = 30


def _subscriptions(request: HttpRequest) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.visible_to(request.membership).select_related("organisation", "membership__user")


@membership_required(*MANAGERS)
def subscription_list(request: HttpRequest) -> HttpResponse:
    """The subscriptions, and the form that adds one. A creation redirects to the subscription's page (a reload then
    posts nothing again), which shows its secret once: the session holds it until that page is shown."""
    form = SubscriptionForm()
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            subscription, secret = subscription_create(by=request.membership, request=request, **form.cleaned_data)
            request.session[_secret_key(subscription.pk)] = secret
            return redirect("webhooks:detail", pk=subscription.pk)
    return render(
        request,
        "webhooks/subscription_list.html",
        {
            "form": form,
            "subscriptions": _subscriptions(request),
            "show_organisation": request.membership.is_certifpro,
        },
    )


def _secret_key(pk: int) -> str:
    return f"webhooks:created-secret:{pk}"


@membership_required(*MANAGERS)
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    if request.method != "POST":
        # The secret of a subscription just created, shown on this display only.
        return _detail(request, subscription, created_secret=request.session.pop(_secret_key(subscription.pk), ""))
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        subscription_update(subscription=subscription, by=request.membership, request=request, **form.cleaned_data)
        messages.success(request, _("L'abonnement « %(name)s » est enregistré.") % {"name": form.cleaned_data["name"]})
        return redirect("webhooks:detail", pk=pk)
    return _detail(request, subscription, form=form)


def _detail(
    request: HttpRequest,
    subscription: WebhookSubscription,
    *,
    form: SubscriptionForm | None = None,
    created_secret: str = "",
) -> HttpResponse:
    form = form or SubscriptionForm(
        initial={"name": subscription.name, "url": subscription.url, "event_types": subscription.event_types}
    )
    deliveries = subscription.deliveries.prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("at", "id"))
    )[:LOG_SIZE]
    return render(
        request,
        "webhooks/subscription_detail.html",
        {"subscription": subscription, "form": form, "deliveries": deliveries, "created_secret": created_secret},
    )


@membership_required(*MANAGERS)
@post_only("webhooks:detail")
def subscription_test(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    subscription_ping(subscription=subscription, by=request.membership, request=request)
    messages.success(
        request, _("Événement de test « ping » envoyé : son résultat s'affiche dans le journal des envois.")
    )
    return redirect("webhooks:detail", pk=pk)


@membership_required(*MANAGERS)
@post_only("webhooks:detail")
def subscription_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    subscription_pause(subscription=subscription, by=request.membership, request=request)
    messages.success(request, _("L'abonnement « %(name)s » est en pause.") % {"name": subscription.name})
    return redirect("webhooks:detail", pk=pk)


@membership_required(*MANAGERS)
@post_only("webhooks:detail")
def subscription_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    subscription_resume(subscription=subscription, by=request.membership, request=request)
    messages.success(
        request,
        _("L'abonnement « %(name)s » reprend : les événements lui sont de nouveau envoyés.")
        % {"name": subscription.name},
    )
    return redirect("webhooks:detail", pk=pk)


@membership_required(*MANAGERS)
@post_only("webhooks:detail")
def subscription_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    subscription_delete(subscription=subscription, by=request.membership, request=request)
    messages.success(request, _("L'abonnement « %(name)s » est supprimé.") % {"name": subscription.name})
    return redirect("webhooks:list")
