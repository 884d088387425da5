import base64
import datetime
import logging
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.views import (
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
)
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticToken

from clea_platform.actions import post_only
from clea_platform.certifications import Certification
from clea_platform.ratelimit import hit
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import membership_required
from organisations.forms import (
    ApiTokenForm,
    ApplicationFilterForm,
    GrantForm,
    HabilitationApplicationForm,
    HabilitationFilterForm,
    QueuedPasswordResetForm,
    ReasonForm,
    ReauthenticationForm,
    RecoveryCodeForm,
    RenewForm,
    SiteForm,
    TotpCodeForm,
)
from organisations.habilitations import (
    HabilitationRefusal,
    habilitation_application_grant,
    habilitation_application_refuse,
    habilitation_apply,
    habilitation_reinstate,
    habilitation_renew,
    habilitation_suspend,
    habilitation_withdraw,
)
from organisations.models import (
    ApiToken,
    ApplicationKind,
    ApplicationState,
    Habilitation,
    HabilitationApplication,
    HabilitationStatus,
    Membership,
    OrganisationKind,
    Role,
    Site,
    UserSession,
)
from organisations.services import (
    LOCKOUT_ACCOUNT,
    LOCKOUT_ADDRESS,
    SESSION_ROW_KEY,
    TWO_FACTOR_ENROLLED_KEY,
    CodeCheck,
    api_token_create,
    api_token_revoke,
    auth_lockout_record,
    membership_switch,
    session_two_factor_verified,
    site_update,
    two_factor_device,
    two_factor_disable,
    two_factor_enrol_confirm,
    two_factor_enrolment_device,
    two_factor_recovery_codes_renew,
    two_factor_verify,
    user_password_change_complete,
    user_password_reset_complete,
    user_sessions_end,
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
        limits = {
            LOCKOUT_ACCOUNT: (f"password-reset-account:{account}", settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT),
            LOCKOUT_ADDRESS: (
                f"password-reset-address:{client_ip(self.request) or 'unknown'}",
                settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
            ),
        }
        counts = {locked: hit(f"ratelimit:{key}", period) for locked, (key, _limit) in limits.items()}
        over_account = counts[LOCKOUT_ACCOUNT] > limits[LOCKOUT_ACCOUNT][1]
        over_address = counts[LOCKOUT_ADDRESS] > limits[LOCKOUT_ADDRESS][1]
        for locked, (_key, limit) in limits.items():
            # The request that crosses the limit, once per window: not every refused one.
            if counts[locked] == limit + 1:
                auth_lockout_record(
                    action="auth.password_reset_limited",
                    locked=locked,
                    username=form.cleaned_data["email"],
                    request=self.request,
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


def _next_url(request: HttpRequest) -> str:
    """Where `next` asks to go, if it stays on this site; the home page otherwise."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return resolve_url(settings.LOGIN_REDIRECT_URL)
    return target


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
    return redirect(_next_url(request))


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


# The key of a token just created, held in the session until the token page's next display shows it.
CREATED_TOKEN_SESSION_ENTRY = "api_tokens:created-key"  # noqa: S105 (a session entry's name)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's personal API tokens: create one or revoke one. A creation redirects here (a reload then posts
    nothing again) and the next display shows the key, once: the session holds it until then. Minting needs a
    session verified by a second factor: a stolen password alone never yields a token."""
    memberships = request.user.active_memberships()
    tokens = ApiToken.objects.filter(membership__user=request.user).select_related(
        "membership__organisation", "membership__user"
    )
    verified = session_two_factor_verified(request.session)
    form = ApiTokenForm(memberships=memberships)
    created_key = None if request.method == "POST" else request.session.pop(CREATED_TOKEN_SESSION_ENTRY, None)
    if request.method == "POST" and "revoke" in request.POST:
        try:
            token = get_object_or_404(tokens, pk=int(request.POST["revoke"]))
        except ValueError as exc:
            raise Http404 from exc
        api_token_revoke(token=token, by=request.user, request=request)
        messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
        return redirect("api_tokens")
    if request.method == "POST":
        if not verified:
            raise PermissionDenied
        form = ApiTokenForm(request.POST, memberships=memberships)
        if form.is_valid():
            _token, request.session[CREATED_TOKEN_SESSION_ENTRY] = api_token_create(
                membership=form.cleaned_data["membership"],
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + datetime.timedelta(days=form.cleaned_data["lifetime"]),
                scope=form.cleaned_data["scope"],
                request=request,
            )
            return redirect("api_tokens")
    now = timezone.now()
    return render(
        request,
        "organisations/api_tokens.html",
        {
            "form": form,
            "tokens": [(token, token.status(now)) for token in tokens],
            "created_key": created_key,
            "verified": verified,
        },
    )


class SessionsEndingPasswordChangeView(PasswordChangeView):
    """Django's password change; every other session of the user ends with the old password (this one stays)."""

    form_class = PasswordChangeForm

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            ended = user_password_change_complete(user=form.user, request=self.request)
        if ended:
            messages.info(
                self.request,
                ngettext("%(count)d autre session a été fermée.", "%(count)d autres sessions ont été fermées.", ended)
                % {"count": ended},
            )
        return response


# -- Account: second factor and sessions ----------------------------------------------------------------------------


def _code_error(form: TotpCodeForm | RecoveryCodeForm, field: str, result: CodeCheck) -> None:
    if result is CodeCheck.THROTTLED:
        form.add_error(field, _("Trop de codes erronés à la suite : attendez quelques secondes avant de réessayer."))
    elif field == "code":
        form.add_error(field, _("Ce code n'est pas le bon, ou il a déjà servi : saisissez le code affiché maintenant."))
    else:
        form.add_error(field, _("Ce code de secours n'est pas valable (inconnu ou déjà utilisé)."))


@login_required
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """After the password: a code of the user's authenticator app, or one of their recovery codes."""
    if session_two_factor_verified(request.session):
        return redirect(_next_url(request))
    if two_factor_device(request.user) is None:
        # Removed since the login (turned off from another session): no code to give. The middleware sends a person
        # whose roles require a second factor to set one up, as at any request.
        request.session[TWO_FACTOR_ENROLLED_KEY] = False
        return redirect(_next_url(request))
    form = TotpCodeForm()
    recovery_form = RecoveryCodeForm(auto_id="id_recovery_%s")
    if request.method == "POST":
        recovery = "recovery_code" in request.POST
        bound: TotpCodeForm | RecoveryCodeForm
        if recovery:
            bound = recovery_form = RecoveryCodeForm(request.POST, auto_id="id_recovery_%s")
        else:
            bound = form = TotpCodeForm(request.POST)
        field = "recovery_code" if recovery else "code"
        if bound.is_valid():
            result = two_factor_verify(request=request, code=bound.cleaned_data[field], recovery=recovery)
            if result is CodeCheck.OK:
                if recovery:
                    messages.warning(
                        request,
                        _(
                            "Code de secours utilisé : il ne servira plus. "
                            "Générez-en de nouveaux depuis « Mon compte »."
                        ),
                    )
                return redirect(_next_url(request))
            _code_error(bound, field, result)
    return render(
        request,
        "registration/two_factor_verify.html",
        {
            "form": form,
            "recovery_form": recovery_form,
            "next": _next_url(request),
            "recovery_open": recovery_form.is_bound,
        },
    )


def _qr_svg(device) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, omitsize=False, title=_("Code QR à scanner avec votre application d'authentification")
    )


def _grouped_secret(device) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _recovery_codes_page(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    shown = [f"{code[:4]}-{code[4:]}" for code in codes]
    return render(request, "registration/two_factor_recovery_codes.html", {"codes": shown, "next": next_url})


@login_required
def two_factor_enrol_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its QR code and its secret in text, then one code to confirm; the recovery codes
    are shown on the answer to that confirmation only."""
    if two_factor_device(request.user) is not None:
        return redirect("account" if session_two_factor_verified(request.session) else "two_factor_verify")
    device = two_factor_enrolment_device(user=request.user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, codes = two_factor_enrol_confirm(request=request, device=device, code=form.cleaned_data["code"])
        if result is CodeCheck.OK:
            return _recovery_codes_page(request, codes, _next_url(request))
        _code_error(form, "code", result)
    required = request.user.two_factor_required(request.memberships)
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device),
            "secret": _grouped_secret(device),
            "required": required,
            "next": _next_url(request),
        },
    )


# The two forms of the account page that ask for the password again (ReauthenticationForm), by prefix.
CODES_PREFIX, DISABLE_PREFIX = "codes", "disable"


@login_required
@post_only("account")
def two_factor_recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the earlier ones stop working), shown on this answer only; the password first."""
    if two_factor_device(request.user) is None:
        return redirect("two_factor_enrol")
    form = ReauthenticationForm(request.POST, prefix=CODES_PREFIX, request=request)
    if not form.is_valid():
        return _account_page(request, codes_form=form, status=400)
    codes = two_factor_recovery_codes_renew(request=request)
    return _recovery_codes_page(request, codes, resolve_url("account"))


@login_required
@post_only("account")
def two_factor_disable_view(request: HttpRequest) -> HttpResponse:
    form = ReauthenticationForm(request.POST, prefix=DISABLE_PREFIX, request=request)
    if not form.is_valid():
        return _account_page(request, disable_form=form, status=400)
    two_factor_disable(request=request, memberships=request.memberships)
    messages.success(request, _("La double authentification est désactivée pour votre compte."))
    return redirect("account")


def _account_page(
    request: HttpRequest,
    *,
    codes_form: ReauthenticationForm | None = None,
    disable_form: ReauthenticationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    sessions = UserSession.objects.filter(user=request.user).alive(timezone.now())
    device = two_factor_device(request.user)
    return render(
        request,
        "organisations/account.html",
        {
            "sessions": sessions,
            "current_session_id": request.session.get(SESSION_ROW_KEY),
            "device": device,
            "recovery_codes_left": StaticToken.objects.filter(device__user=request.user).count() if device else 0,
            "two_factor_required": request.user.two_factor_required(request.memberships),
            "idle_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
            "lifetime_hours": settings.SESSION_ABSOLUTE_LIFETIME_HOURS,
            "codes_form": codes_form or ReauthenticationForm(prefix=CODES_PREFIX, request=request),
            "disable_form": disable_form or ReauthenticationForm(prefix=DISABLE_PREFIX, request=request),
        },
        status=status,
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The person's own account: second factor, active sessions (this one marked, each can be ended), password and
    API tokens."""
    return _account_page(request)


@login_required
@post_only("account")
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of one's own sessions (another person's is a 404, like a missing one)."""
    row = get_object_or_404(UserSession, pk=pk, user=request.user)
    if row.pk == request.session.get(SESSION_ROW_KEY):
        logout(request)
        return redirect("login")
    user_sessions_end(user=request.user, by=request.user, request=request, pks=[row.pk])
    messages.success(request, _("La session est fermée : ce navigateur devra se reconnecter."))
    return redirect("account")


@login_required
@post_only("account")
def sessions_end_all(request: HttpRequest) -> HttpResponse:
    """« Se déconnecter partout »: every session of the user ends, this one included."""
    user = request.user
    keep = request.session.session_key or ""
    ended = user_sessions_end(user=user, by=user, request=request, keep=keep)
    logout(request)
    if ended:
        message = ngettext(
            "Toutes vos sessions sont fermées : ce navigateur et %(count)d autre.",
            "Toutes vos sessions sont fermées : ce navigateur et %(count)d autres.",
            ended,
        ) % {"count": ended}
    else:
        message = _("Toutes vos sessions sont fermées : vous n'en aviez pas d'autre que celle-ci.")
    messages.success(request, message)
    return redirect("login")


# -- Habilitations -----------------------------------------------------------------------------------------------

HABILITATION_PAGE_SIZE = 25


def _query(request: HttpRequest) -> str:
    return urlencode([(key, value) for key, value in request.GET.items() if key != "page" and value])


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def habilitation_list(request: HttpRequest) -> HttpResponse:
    """The organisation's habilitations (Certif'Pro: every organisation's), filtered, 25 a page."""
    membership: Membership = request.membership
    filters = HabilitationFilterForm(request.GET)
    rows = filters.filter(
        Habilitation.objects.visible_to(membership)
        .select_related("organisation")
        .annotate(renewed=Exists(Habilitation.objects.renewing(OuterRef("pk"))))
        .order_by("valid_until", "organisation__name", "pk")
    )
    page = Paginator(rows, HABILITATION_PAGE_SIZE).get_page(request.GET.get("page"))
    pending = HabilitationApplication.objects.visible_to(membership).submitted().count()
    return render(
        request,
        "organisations/habilitation_list.html",
        {
            "page": page,
            "filters": filters,
            "filtering": bool(_query(request)),
            "query": _query(request),
            "pending": pending,
            "may_apply": _may_apply(membership),
            "today": timezone.localdate(),
        },
    )


def _may_apply(membership: Membership) -> bool:
    return membership.role == Role.ORG_ADMIN and membership.organisation.kind == OrganisationKind.EVALUATOR


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def application_list(request: HttpRequest) -> HttpResponse:
    """The applications: Certif'Pro's queue to instruct (awaiting first, the oldest first), or the organisation's
    own; filtered, 25 a page."""
    membership: Membership = request.membership
    filters = ApplicationFilterForm(request.GET)
    rows = filters.filter(
        HabilitationApplication.objects.visible_to(membership)
        .select_related("organisation")
        .order_by(
            Case(When(state=ApplicationState.SUBMITTED, then=0), default=1),
            Case(When(state=ApplicationState.SUBMITTED, then=F("submitted_at"))).asc(nulls_last=True),
            "-submitted_at",
            "-pk",
        )
    )
    page = Paginator(rows, HABILITATION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/application_list.html",
        {
            "page": page,
            "filters": filters,
            "filtering": bool(_query(request)),
            "query": _query(request),
            "may_apply": _may_apply(membership),
        },
    )


@membership_required(Role.ORG_ADMIN)
def application_create(request: HttpRequest) -> HttpResponse:
    """An evaluator organisation's administrator applies (?renouveler=<certification> preselects a renewal)."""
    membership: Membership = request.membership
    if not _may_apply(membership):
        raise PermissionDenied
    sites = Site.objects.visible_to(membership).filter(is_active=True).order_by("name")
    renew = request.GET.get("renouveler", "")
    initial: dict[str, Any] = {}
    if renew in Certification.values:
        initial = {"kind": ApplicationKind.RENEWAL, "certifications": [renew]}
    form = HabilitationApplicationForm(request.POST or None, sites=sites, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = habilitation_apply(
                by=membership,
                kind=data["kind"],
                certifications=data["certifications"],
                sites=data["sites"],
                requested_from=data["requested_from"],
                requested_until=data["requested_until"],
                note=data["note"],
                request=request,
            )
        except HabilitationRefusal as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Votre demande est envoyée à Certif'Pro, qui l'instruit."))
            return redirect("organisations:application_detail", pk=application.pk)
    return render(request, "organisations/application_form.html", {"form": form, "has_sites": sites.exists()})


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application; Certif'Pro grants it (setting the period) or refuses it with a reason (POST `action`)."""
    membership: Membership = request.membership
    application = get_object_or_404(
        HabilitationApplication.objects.visible_to(membership).select_related(
            "organisation", "submitted_by", "decided_by"
        ),
        pk=pk,
    )
    instructs = membership.is_certifpro and application.state == ApplicationState.SUBMITTED
    grant_form = GrantForm(
        prefix="grant", initial={"valid_from": application.requested_from, "valid_until": application.requested_until}
    )
    refuse_form = ReasonForm(prefix="refuse")
    if request.method == "POST":
        if not membership.is_certifpro:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "grant":
                grant_form = GrantForm(request.POST, prefix="grant")
                if grant_form.is_valid():
                    habilitation_application_grant(
                        application=application, by=membership, request=request, **grant_form.cleaned_data
                    )
                    messages.success(request, _("La demande est accordée ; l'organisme est prévenu."))
                    return redirect("organisations:application_detail", pk=application.pk)
            elif action == "refuse":
                refuse_form = ReasonForm(request.POST, prefix="refuse")
                if refuse_form.is_valid():
                    habilitation_application_refuse(
                        application=application,
                        by=membership,
                        reason=refuse_form.cleaned_data["reason"],
                        request=request,
                    )
                    messages.success(request, _("La demande est refusée ; l'organisme est prévenu et lit le motif."))
                    return redirect("organisations:application_detail", pk=application.pk)
            else:
                raise Http404
        except HabilitationRefusal as exc:
            form = grant_form if action == "grant" else refuse_form
            target = {"valid_until": "valid_until", "reason": "reason"}.get(exc.field or "")
            form.add_error(target if target in form.fields else None, str(exc))
    if application.kind == ApplicationKind.FIRST:
        grant_form.fields["valid_from"].help_text = ""
    return render(
        request,
        "organisations/application_detail.html",
        {
            "application": application,
            "sites": application.sites.order_by("name"),
            "habilitations": application.habilitations.order_by("certification"),
            "instructs": instructs,
            "grant_form": grant_form,
            "refuse_form": refuse_form,
        },
    )


HABILITATION_ACTIONS = {
    "suspend": habilitation_suspend,
    "reinstate": habilitation_reinstate,
    "withdraw": habilitation_withdraw,
}


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def habilitation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A habilitation; Certif'Pro renews, suspends, reinstates or withdraws it (POST `action`)."""
    membership: Membership = request.membership
    habilitation = get_object_or_404(
        Habilitation.objects.visible_to(membership).select_related("organisation", "application", "previous"),
        pk=pk,
    )
    forms_by_action: dict[str, Any] = {
        "renew": RenewForm(prefix="renew"),
        "suspend": ReasonForm(prefix="suspend"),
        "reinstate": ReasonForm(prefix="reinstate", required=False),
        "withdraw": ReasonForm(prefix="withdraw"),
    }
    if request.method == "POST":
        if not membership.is_certifpro:
            raise PermissionDenied
        action = request.POST.get("action", "")
        if action not in forms_by_action:
            raise Http404
        form = type(forms_by_action[action])(
            request.POST, prefix=action, **({"required": False} if action == "reinstate" else {})
        )
        forms_by_action[action] = form
        if form.is_valid():
            try:
                if action == "renew":
                    renewal = habilitation_renew(
                        habilitation=habilitation, by=membership, request=request, **form.cleaned_data
                    )
                    messages.success(request, _("L'habilitation est renouvelée ; l'organisme est prévenu."))
                    return redirect("organisations:habilitation_detail", pk=renewal.pk)
                HABILITATION_ACTIONS[action](
                    habilitation=habilitation, by=membership, reason=form.cleaned_data["reason"], request=request
                )
            except HabilitationRefusal as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("C'est enregistré ; l'organisme est prévenu."))
                return redirect("organisations:habilitation_detail", pk=habilitation.pk)
    status = habilitation.status
    renewable = (
        status == HabilitationStatus.ACTIVE
        and habilitation.valid_until >= timezone.localdate()
        and not Habilitation.objects.renewing(habilitation).exists()
    )
    available = {
        "renew": renewable,
        "suspend": status == HabilitationStatus.ACTIVE,
        "reinstate": status == HabilitationStatus.SUSPENDED,
        "withdraw": status != HabilitationStatus.WITHDRAWN,
    }
    return render(
        request,
        "organisations/habilitation_detail.html",
        {
            "habilitation": habilitation,
            "renewal": Habilitation.objects.renewing(habilitation).first(),
            "instructs": membership.is_certifpro,
            # A refused form stays on the page with its reason, even when the action is not offered now.
            "forms": {name: form for name, form in forms_by_action.items() if available[name] or form.errors},
            "expiring": habilitation.is_expiring() and renewable,
            "may_apply": _may_apply(membership),
            "today": timezone.localdate(),
        },
    )
