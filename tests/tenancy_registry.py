"""Every URL that takes an object id, and how to make such an object for a given organisation.

`tests/test_tenancy_urls.py` walks the URLconf: a new URL with a parameter that is neither listed here nor
declared public fails the suite, so each new view gets its "another organisation gets 404" test for free, and
its "the owner, with the role that acts there, succeeds" test: an entry names the role that uses the URL and
makes the object in a state where that use is allowed (with the request body a POST needs).

`tests/test_tenancy_lists.py` does the same for the URLs without an id: each is a tenant list (TENANT_LISTS,
where a member finds its organisation's row and not another's) or says why not (NOT_TENANT_LISTS).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test.utils import ContextList

from organisations.models import Membership, Organisation


@dataclass(frozen=True)
class Target:
    """What `make` returns when the URL's kwargs are not enough: the request body that needs the object's ids,
    or the one person who acts on it (the plan's own trainer, a juror seated in the session) where a fresh
    member of the organisation with the same role rightly sees nothing."""

    kwargs: dict[str, Any]
    actor: Membership | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TenantURL:
    name: str
    # The role that uses the URL: the owner's member with it succeeds, the outsider's with it gets 404.
    role: str
    # Builds an object owned by the organisation, in a state where `role` may act on it, and returns the URL's
    # kwargs (or a Target).
    make: Callable[[Organisation], dict[str, Any] | Target]
    method: str = "get"
    # The request body every object of the entry takes (merged under the Target's own data).
    data: dict[str, Any] = field(default_factory=dict)

    def target(self, organisation: Organisation) -> Target:
        made = self.make(organisation)
        target = made if isinstance(made, Target) else Target(kwargs=made)
        return Target(kwargs=target.kwargs, actor=target.actor, data={**self.data, **target.data})


@dataclass(frozen=True)
class Row:
    """A row made for an organisation: the text that recognises it in a list (a reference, a number, a name
    made from the organisation's SIRET), and who reads the list when a fresh member with the role would not
    see the row (a trainer sees the plans they deliver, a juror the sessions they sit on)."""

    marker: str
    actor: Membership | None = None


@dataclass(frozen=True)
class TenantList:
    """A URL without an object id that lists tenant rows (a screen, an export, an API list endpoint)."""

    name: str
    # The role that uses the list.
    role: str
    # Makes a row of the organisation that `role` sees there, and returns its marker (or a Row).
    make: Callable[[Organisation], str | Row]
    # The query string the list needs (an export's period and format).
    query: dict[str, str] = field(default_factory=dict)

    def row(self, organisation: Organisation) -> Row:
        made = self.make(organisation)
        return made if isinstance(made, Row) else Row(marker=made)


def marker(organisation: Organisation, what: str) -> str:
    """A text unique to the organisation, that no other organisation's marker contains (the SIRET is 14 digits)."""
    return f"{what.upper()}-{organisation.siret}"


def refusal(response: HttpResponse) -> str | None:
    """Why the response is not a success, or None: an error status, a redirect to the login page, a redirect
    carrying an error message (how the screens refuse a transition), a bound form re-rendered with errors, a
    page showing a service's refusal above its form (the `refusal` of the context), or a preview listing the
    errors of what was sent (an uploaded file's plan, whose `errors` is a list)."""
    status = response.status_code
    if status >= 400:
        return f"answered {status}: {response.content[:300]!r}" if not response.streaming else f"answered {status}"
    location = response.get("Location", "")
    if 300 <= status < 400 and location.startswith(resolve_url(settings.LOGIN_URL)):
        return f"sent to the login page ({location})"
    request = getattr(response, "wsgi_request", None)
    errors = [str(m) for m in get_messages(request) if m.level >= messages.WARNING] if request else []
    if errors:
        return f"answered {status} with {errors}"
    contexts = response.context if isinstance(response.context, ContextList) else [response.context]
    for context in filter(None, contexts):
        for key, value in context.flatten().items():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return f"answered {status} with the errors of `{key}`: {value.errors.as_data()}"
            if key == "refusal" and value:
                return f"answered {status} with the refusal: {value}"
            if isinstance(getattr(value, "errors", None), list) and value.errors:
                return f"answered {status} with the errors of `{key}`: {value.errors}"
    return None


def _app_entries(name: str) -> list[Any]:
    # Each app's tests declare their own URLs in tests/<app>/tenancy.py: TENANT_URLS (with an id) and
    # TENANT_LISTS (without).
    entries = []
    for app in (
        "organisations",
        "outbox",
        "candidates",
        "evaluations",
        "scheduling",
        "training",
        "juries",
        "funding",
        "credentials",
        "directory",
        "referrals",
        "intake",
        "journey",
        "notifications",
        "space",
        "webhooks",
        "api",
    ):
        module_name = f"tests.{app}.tenancy"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        entries += getattr(module, name, [])
    return entries


TENANT_URLS: list[TenantURL] = _app_entries("TENANT_URLS")
TENANT_LISTS: list[TenantList] = _app_entries("TENANT_LISTS")

# URLs with parameters that are not tenant objects, and why.
NOT_TENANT_URLS: dict[str, str] = {
    "password_reset_confirm": "the uid/token pair is the secret; no organisation involved",
    "session_end": (
        "one of the user's own sessions, whatever organisation they work for; another person's is a 404 "
        "(tests/organisations/test_sessions.py)"
    ),
    "certificate_verify": "public by design: the code proves a certificate and shows nothing else",
    "api:certificate_verify": "the API twin of certificate_verify: public by design",
    "api:attestation_verify": "public by design: the code proves an attestation, shown as on certificate_verify",
    "intake:create": "public form on a directory site (a public site); nothing of any request is shown",
    "intake:confirm": "the single-use token is the secret; the page shows nothing of the request",
    "intake:answer": "the single-use token is the secret: the person's own proposed meeting",
    "intake:answer_ics": "the single-use token is the secret: the person's own proposed meeting",
    "credentials:status_list": "public by design: the signed revocation list every credential points at",
    "credentials:achievement": "public by design: what each certification is, the `id` of its Open Badges Achievement",
    "api:referentiel-detail": "the national referentiels belong to no organisation: every member reads them",
    # Certif'Pro sees every decision: there is no other organisation to get 404. That the dossier's own
    # organisation gets 403 and its neighbour 404 is tested in tests/juries/test_views.py (test_no_one_but_...)
    # and tests/api/test_juries.py (test_only_certifpro_revokes_..., test_a_decision_of_another_organisation_...).
    "juries:decision_revoke": "revocation is Certif'Pro's national action, on any organisation's decision",
    "api:decision-revoke": "the API twin of juries:decision_revoke: Certif'Pro's national action",
    # A person's GDPR requests: Certif'Pro answers them over every organisation's records (the same person is
    # recorded by several); every other role gets 403 (tests/privacy/test_views.py).
    # The national flux to the Caisse des Dépôts: Certif'Pro's, over every organisation's certificates; every other
    # role gets 403 (tests/funding/test_cdc.py, test_only_certifpro_sees_and_acts_on_the_declarations).
    "funding:cdc_flux_download": "a national flux to the Caisse des Dépôts: Certif'Pro only (CdcFlux.visible_to)",
    "funding:cdc_holder": "Certif'Pro completes the holder of any organisation's certificate for the Caisse",
    "privacy:person": "Certif'Pro's view of one person's records across organisations (GDPR requests)",
    "privacy:export": "Certif'Pro's subject-access export of a person's records across organisations",
    "privacy:erase": "Certif'Pro's erasure on request of a person's records across organisations",
    # The candidate's own space: no membership, one person's records (Dossier.objects.of_person); another person's
    # object is a 404 there (tests/space/test_tenancy.py).
    "space:sign_in": "the token is the secret: single use, 30 minutes (tests/space/test_sign_in.py)",
    "space:dossier": "the candidate's own dossier; another person's is a 404 (tests/space)",
    "space:acquired": "the candidate's own dossier; another person's is a 404 (tests/space)",
    "space:consent": "the candidate's own dossier; another person's is a 404 (tests/space)",
    "space:consent_withdraw": "the candidate's own dossier; another person's is a 404 (tests/space)",
    "space:appointment_ics": "the candidate's own appointment; another person's is a 404 (tests/space)",
    "space:attestation_download": "the candidate's own document; another person's is a 404 (tests/space)",
    "space:certificate_download": "the candidate's own document; another person's is a 404 (tests/space)",
    "space:credential_download": "the candidate's own credential; another person's is a 404 (tests/space)",
    "space:move": "the candidate's own dossier; another person's is a 404 (tests/space/test_move.py)",
    # Statistics (issue 21): the key names a chart, not an object; the figures are the scope's (nation, region,
    # organisation) whatever the filters ask (tests/indicators/test_views.py).
    "indicators:chart_download": "a chart's data within the member's own scope, never an object of another one",
    "space:move_confirm": (
        "the candidate's own dossier and a public directory site; another person's dossier is a 404 "
        "(tests/space/test_move.py)"
    ),
}

# URLs without parameters that list no tenant rows, or list every organisation's by design, and why.
NOT_TENANT_LISTS: dict[str, str] = {
    # Public pages and accounts.
    "login": "account page",
    "logout": "account page",
    "password_change": "account page: the user's own password",
    "password_change_done": "account page",
    "password_reset": "account page: asks for an e-mail address",
    "password_reset_done": "account page",
    "password_reset_complete": "account page",
    "api_tokens": "account page: the user's own API tokens, each bound to one of their memberships",
    "account": "account page: the user's own second factor and sessions",
    "two_factor_verify": "account page: the code after the password",
    "two_factor_enrol": "account page: setting up the user's own authenticator",
    "two_factor_recovery_codes": "account page: the user's own recovery codes",
    "two_factor_disable": "account page: the user's own authenticator",
    "sessions_end_all": "account page: ends the user's own sessions",
    "notifications:preferences": "account page: the user's own e-mail preference",
    "notifications:mark_all_read": "a POST on the member's own notifications of their organisation",
    "api:notification-read-all": "the API twin of notifications:mark_all_read",
    "organisations:switch": "a POST among the user's own memberships (an unknown one is a 404: tests/organisations)",
    "healthz": "platform health, no data",
    "healthz_live": "platform health, no data",
    "healthz_ready": "platform health, no data",
    "ping": "platform liveness, no data",
    "certificate_verify_form": "public form: a code proves a certificate and shows nothing else",
    "credentials:verify_upload": "public form: a credential file proves a certificate and shows nothing else",
    "api:credential_verify": "the API twin of credentials:verify_upload: public by design",
    "credentials:jwks": "the platform's public keys (JWKS), no tenant data",
    "credentials:did": "the platform's did:web document (its public keys), no tenant data",
    "accessibility": "the public declaration of accessibility, no data",
    "indicators:open_data": "public by design: the open data's page, national figures with small cells hidden",
    "indicators:open_data_national": "public by design: national monthly figures, small cells hidden",
    "indicators:open_data_regional": "public by design: regional monthly figures, small cells hidden",
    "indicators:dashboard": (
        "statistics of the member's own scope (nation, region, organisation) read through Scope.facts; scoping "
        "and filters that cannot leave it are tested in tests/indicators/test_views.py"
    ),
    "api_schema": "the API's OpenAPI schema",
    "api_docs": "the API's documentation page",
    # Pages that count or redirect, forms that create.
    "home": (
        "the role's dashboard, composed by journey/selectors.py from scoped querysets; each panel's scoping is "
        "tested in tests/journey/test_selectors.py, and its « À faire » (the same queue as journey:todo, a tenant "
        "list) in tests/journey/test_queues.py"
    ),
    "funding:index": "redirects each role to its own list (funding:line_list, funding:claim_list, ...)",
    "candidates:dossier_create": "form to create a dossier",
    "api:dossier-transfer": "the API twin of candidates:transfer: finds by reference and birth date, never lists",
    "candidates:transfer": (
        "form that finds another organisation's dossier by reference and birth date, never a list "
        "(tests/candidates/test_transfer_views.py)"
    ),
    "juries:session_create": "form to create a session",
    "funding:batch_create": "POST that requests a batch of the organisation's claimable lines",
    "referrals:create": "form to send a referral (the directory's sites are public)",
    # National data: reference tables and the public directory of habilitated evaluators.
    "directory:search": "the public directory of habilitated evaluators' sites",
    "directory:commune_suggestions": "national reference data (INSEE communes)",
    "api:evaluators_nearby": "the API twin of directory:search: public by design",
    "api:communes": "the API twin of directory:commune_suggestions",
    "api:referentiel-list": "the national referentiels belong to no organisation",
    "api:funder-list": "the national list of funders, kept by Certif'Pro",
    "api:training-plan-trainers": "the trainers a counsellor may name: every active trainer in the country",
    "api:referral-consent-text": "the fixed consent text a referral shows the job seeker",
    # Certif'Pro's national screens and exports: every organisation's rows, to Certif'Pro only (403 otherwise).
    "journey:certified_export": "Certif'Pro's national export of certified candidates (CSV/XLSX)",
    "funding:statement_request": "Certif'Pro's POST producing every organisation's quarterly statements",
    "funding:national": "Certif'Pro's national funding figures",
    "funding:cdc_list": "Certif'Pro's national list of certificates to report to the Caisse des Dépôts",
    "funding:cdc_generate": "Certif'Pro produces the national flux to the Caisse des Dépôts",
    "funding:cdc_report_import": "Certif'Pro imports the Caisse des Dépôts' processing report",
    "privacy:index": "Certif'Pro's retention table and search of a person across organisations (GDPR requests)",
    # The candidate's own space: no membership; each page reads one person's records (tests/space/test_tenancy.py).
    "space:home": "the candidate's own dossiers (Dossier.objects.of_person)",
    "space:sign_in_request": "public form: an address and a birth date, the same answer whether they match or not",
    "space:sign_in_requested": "public page: the same answer whatever was asked",
    "space:sign_out": "ends the candidate's own session",
    "space:signed_out": "public page",
    "intake:sent": "public page: the same answer whatever was asked",
    "space:documents": "the candidate's own documents (Dossier.objects.of_person)",
    "space:data": "the candidate's own data page",
    "space:data_json": "the candidate's own data (their Candidate rows only)",
    "space:data_pdf": "the candidate's own data (their Candidate rows only)",
}
