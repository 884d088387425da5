"""The notification centre and the e-mail preferences (issue 17). A member sees only their own notifications of
the organisation they work for now (Notification.objects.visible_to): anyone else's answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from notifications.forms import PreferenceForm
from notifications.kinds import kind_label
from notifications.models import Notification
from notifications.services import (
    email_modes,
    notification_mark_read,
    notification_preference_set,
    notifications_mark_all_read,
)

PAGE_SIZE = 30


@membership_required()
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    visible = Notification.objects.visible_to(request.membership)
    page = Paginator(visible.for_centre(), PAGE_SIZE).get_page(request.GET.get("page"))
    for notification in page:
        notification.kind_label = kind_label(notification.kind)  # type: ignore[attr-defined]
    return render(
        request,
        "notifications/centre.html",
        {"page": page, "unread": visible.unread().count()},
    )


@membership_required()
@post_only(lambda request, pk: reverse("notifications:centre"))
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.membership), pk=pk)
    notification_mark_read(notification=notification, by=request.membership)
    messages.success(request, _("Notification « %(title)s » marquée comme lue.") % {"title": notification.title})
    return redirect("notifications:centre")


@membership_required()
@post_only("notifications:centre")
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(by=request.membership)
    messages.success(
        request,
        ngettext("%(n)s notification marquée comme lue.", "%(n)s notifications marquées comme lues.", count)
        % {"n": count},
    )
    return redirect("notifications:centre")


@membership_required()
def preferences(request: HttpRequest) -> HttpResponse:
    current = email_modes([request.user.pk])[request.user.pk]
    form = PreferenceForm(request.POST if request.method == "POST" else None, initial={"email_mode": current})
    if request.method == "POST" and form.is_valid():
        notification_preference_set(user=request.user, email_mode=form.cleaned_data["email_mode"])
        messages.success(request, _("Vos préférences sont enregistrées."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
