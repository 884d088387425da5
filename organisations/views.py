import datetime
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView, PasswordResetView
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from clea_platform.actions import post_only
from clea_platform.ratelimit import over_limit
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import membership_required
from organisations.forms import ApiTokenForm, QueuedPasswordResetForm, SiteForm
from organisations.models import ApiToken, Membership, Role, Site
from organisations.services import (
    api_token_create,
    api_token_revoke,
    membership_switch,
    site_update,
    user_password_reset_complete,
)

logger = logging.getLogger(__name__)


class RateLimitedPasswordResetView(PasswordResetView):
    """Django's reset request, limited per account and per client address (settings.PASSWORD_RESET_LIMIT_*): each
    e-mail floods an inbox and hands out one more valid link, and a script could do it for every address it knows.

    The account is the address as typed, whether an account has it or not, so that the refusal tells no more than
    the usual answer ("if an account exists..."); a refused request sends nothing. Both counters count every request,
    so that staying under one never hides the other."""

    form_class = QueuedPasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        period = settings.PASSWORD_RESET_LIMIT_PERIOD
        # Keyed on a keyed hash: the shared cache holds no e-mail address.
        account = salted_hmac("password-reset-limit", form.cleaned_data["email"].strip().casefold()).hexdigest()
        over_account = over_limit(
            scope="password-reset-account",
            ident=account,
            limit=settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT,
            period=period,
        )
        over_address = over_limit(
            scope="password-reset-address",
            ident=client_ip(self.request) or "unknown",
            limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
            period=period,
        )
        if not (over_account or over_address):
            return super().form_valid(form)
        logger.warning("Password reset refused: too many requests (%s)", "account" if over_account else "address")
        response = render(
            self.request, "registration/password_reset_limited.html", {"minutes": period // 60}, status=429
        )
        response["Retry-After"] = str(period)
        return response


class LockoutLiftingPasswordResetConfirmView(PasswordResetConfirmView):
    """Django's reset confirmation; a new password set through the e-mailed link also lifts a login lockout."""

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        # The new password and the lifted lockout land together, or neither does.
        with transaction.atomic():
            response = super().form_valid(form)
            user_password_reset_complete(user=form.user, request=self.request)
        return response


@login_required
@post_only("home")
def switch_membership(request: HttpRequest) -> HttpResponse:
    try:
        membership = membership_switch(request=request, membership_id=int(request.POST.get("membership", "")))
    except (ValueError, Membership.DoesNotExist) as exc:
        raise Http404 from exc
    messages.success(
        request,
        _("Vous travaillez maintenant pour %(org)s (%(role)s).")
        % {"org": membership.organisation, "role": membership.get_role_display()},
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "home"
    return redirect(target)


@membership_required()
def site_list(request: HttpRequest) -> HttpResponse:
    sites = Site.objects.visible_to(request.membership).select_related("organisation")
    page = Paginator(sites, 25).get_page(request.GET.get("page"))
    can_edit = request.membership.has_role(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
    return render(request, "organisations/site_list.html", {"page": page, "can_edit": can_edit})


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(Site.objects.visible_to(request.membership), pk=pk)
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        site_update(site=site, changes=changes, by=request.user, request=request)
        messages.success(request, _("Le site « %(name)s » est enregistré.") % {"name": site.name})
        return redirect("organisations:site_list")
    return render(request, "organisations/site_form.html", {"form": form, "site": site})


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def member_list(request: HttpRequest) -> HttpResponse:
    members = Membership.objects.visible_to(request.membership).select_related("user", "organisation")
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    return render(request, "organisations/member_list.html", {"page": page})


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's personal API tokens: create one (its key is shown on this response only) or revoke one."""
    memberships = Membership.objects.filter(user=request.user, is_active=True).select_related("organisation")
    tokens = ApiToken.objects.filter(membership__user=request.user).select_related("membership__organisation")
    form = ApiTokenForm(memberships=memberships)
    created_key = None
    if request.method == "POST" and "revoke" in request.POST:
        try:
            token = get_object_or_404(tokens, pk=int(request.POST["revoke"]))
        except ValueError as exc:
            raise Http404 from exc
        api_token_revoke(token=token, by=request.user, request=request)
        messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
        return redirect("api_tokens")
    if request.method == "POST":
        form = ApiTokenForm(request.POST, memberships=memberships)
        if form.is_valid():
            token, created_key = api_token_create(
                membership=form.cleaned_data["membership"],
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + datetime.timedelta(days=form.cleaned_data["lifetime"]),
                request=request,
            )
            form = ApiTokenForm(memberships=memberships)
    return render(
        request,
        "organisations/api_tokens.html",
        {"form": form, "tokens": tokens, "created_key": created_key, "now": timezone.now()},
    )
