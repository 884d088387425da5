"""The platform's HTTP security (issue 16, README "Sécurité"): production settings that `check --deploy` accepts,
HTTPS and HSTS, a secret key that is long and unpublished, a Content-Security-Policy without inline code, and pages
of signed-in people that no browser or proxy keeps."""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.clients import page_text
from tests.journey import DossierFactory

ROOT = Path(__file__).resolve().parent.parent
# What a production server is given (README, "Production"): DEBUG off, its own key, its public https address.
PRODUCTION = {
    "DEBUG": "false",
    "SITE_URL": "https://clea.example.fr",
    "ALLOWED_HOSTS": "clea.example.fr",
}


def run_django(args: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with only `environment` for the platform's variables: settings are read at start-up."""
    unset = {"SITE_URL", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "TRUSTED_PROXY_COUNT"}
    unset |= {key for key in os.environ if key.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_"))}
    unset.add("DJANGO_ALLOW_ASYNC_UNSAFE")  # the browser tests' (tests/conftest.py); check --deploy refuses it
    env = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run(  # noqa: S603 (this interpreter, arguments of our own)
        [sys.executable, *args],
        cwd=ROOT,
        env={**env, **environment, "DJANGO_SETTINGS_MODULE": "clea_platform.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def new_key() -> str:
    return secrets.token_urlsafe(50)


# -- check --deploy, HTTPS and HSTS --------------------------------------------------------------------------------


def test_check_deploy_with_production_settings_finds_no_issue():
    checked = run_django(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION, SECRET_KEY=new_key()
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout, checked.stdout


# Requests made in the fresh process, with production's middleware: plain HTTP, HTTPS, and plain HTTP claiming HTTPS.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="clea.example.fr")
plain, secure = client.get("/ping"), client.get("/ping", secure=True)
claimed = client.get("/ping", HTTP_X_FORWARDED_PROTO="https")
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.test import RequestFactory
def form_page(request):
    get_token(request)  # what a page with a form does
    return HttpResponse()
with_form = CsrfViewMiddleware(form_page)(RequestFactory().get("/", secure=True))
print(json.dumps({
    "csrf_cookie": with_form.cookies[settings.CSRF_COOKIE_NAME].OutputString(),
    "cookie_names": [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
    "plain": [plain.status_code, plain.headers.get("Location")],
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "claimed": claimed.status_code,
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "silenced": settings.SILENCED_SYSTEM_CHECKS,
}))
"""


def probe(**environment: str) -> dict:
    # Each fresh interpreter costs about a second of processor: the same environment is probed once per process.
    return _probe(tuple(sorted(environment.items())))


@functools.cache
def _probe(environment: tuple[tuple[str, str], ...]) -> dict:
    done = run_django(["-c", PROBE], **{**PRODUCTION, "SECRET_KEY": new_key(), **dict(environment)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_in_production_plain_http_is_redirected_and_https_answers_with_a_year_of_hsts():
    answers = probe()
    assert answers["plain"] == [301, "https://clea.example.fr/ping"]
    max_age, *flags = answers["hsts"].split("; ")
    assert int(max_age.removeprefix("max-age=")) >= 365 * 24 * 3600
    assert flags == ["includeSubDomains"]  # preloading is the operator's decision (SECURE_HSTS_PRELOAD)
    assert answers["cookies_secure"] == [True, True]


def test_in_production_the_cookies_carry_the_host_prefix_so_no_other_host_can_set_them():
    answers = probe()
    assert answers["cookie_names"] == ["__Host-sessionid", "__Host-csrftoken"]
    # What the prefix requires of the cookie, or browsers drop it: Secure, path /, no Domain.
    attributes = answers["csrf_cookie"].split("; ")
    assert attributes[0].startswith("__Host-csrftoken=")
    assert "Secure" in attributes and "Path=/" in attributes
    assert not any(attribute.startswith("Domain=") for attribute in attributes)


def test_a_client_cannot_claim_https_with_a_header_unless_a_trusted_proxy_is_declared():
    assert probe()["claimed"] == 301
    assert probe(TRUSTED_PROXY_COUNT="1")["claimed"] == 200


def test_preloading_is_set_from_the_environment_and_then_no_longer_silenced():
    answers = probe(SECURE_HSTS_PRELOAD="true")
    assert answers["hsts"].endswith("; includeSubDomains; preload")
    assert "security.W021" not in answers["silenced"]


def test_an_http_site_url_turns_the_redirect_and_hsts_off_by_default():
    """A local `docker compose up` on http://localhost:8000 (and CI's live server) is not sent to HTTPS."""
    answers = probe(SITE_URL="http://localhost:8000", ALLOWED_HOSTS="clea.example.fr")
    assert answers["plain"] == [200, None]
    assert answers["hsts"] is None


# -- The secret key ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "refused"),
    [
        ("start-check", "SECRET_KEY is too weak"),
        ("ci-only-secret-key-not-for-production", "published example key"),
        ("insecure-development-key-only-for-the-embedded-mode", "published example key"),
        ("insecure-local-only-change-me" * 2, "published example key"),  # long enough, still published
        ("ab" * 40, "SECRET_KEY is too weak"),  # long enough, two characters
        ("django-insecure-" + "x1y2z3w4" * 6, "SECRET_KEY is too weak"),  # startproject's throw-away prefix
    ],
)
def test_with_debug_off_a_short_or_published_secret_key_stops_the_start(key, refused):
    started = run_django(["-c", "import django; django.setup()"], **PRODUCTION, SECRET_KEY=key)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and refused in started.stderr
    assert "secrets.token_urlsafe(50)" in started.stderr  # how to make a good one


def test_with_debug_off_a_long_random_key_starts_and_the_embedded_mode_keeps_its_own():
    assert run_django(["-c", "import django; django.setup()"], **PRODUCTION, SECRET_KEY=new_key()).returncode == 0
    assert run_django(["-c", "import django; django.setup()"]).returncode == 0


def test_docker_compose_has_no_default_secret_key():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", compose["x-env"]["SECRET_KEY"])


# -- Content-Security-Policy ---------------------------------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_every_page_forbids_inline_code_and_eval(client, client_for, make_member):
    for response in (client.get(reverse("login")), client_for(make_member()).get(reverse("home"))):
        directives = policy(response)
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["default-src"] == ["'self'"]
        assert directives["object-src"] == directives["base-uri"] == directives["frame-ancestors"] == ["'none'"]
        assert "unsafe" not in response.headers["Content-Security-Policy"]


# The templates rendered as HTML pages (templates/documents/ are WeasyPrint's, turned into PDFs and never served).
PAGE_TEMPLATES = sorted(
    path
    for folder in (ROOT / "templates", ROOT / "directory" / "templates")
    for path in folder.rglob("*.html")
    if "documents" not in path.relative_to(folder).parts
)
# What a policy without 'unsafe-inline' or 'unsafe-eval' refuses, and htmx's own ways of running code from markup.
INLINE_CODE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx hx-on": re.compile(r"\s(data-)?hx-on", re.IGNORECASE),
    "htmx js: values": re.compile(r"hx-(vals|vars)\s*=\s*['\"]\s*(js|javascript):", re.IGNORECASE),
}


TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def without_comments(template: str) -> str:
    """The template less its comments, which never reach the browser (their lines kept, for the line numbers)."""
    return TEMPLATE_COMMENT.sub(lambda comment: "\n" * comment.group(0).count("\n"), template)


def test_no_page_template_holds_code_or_style_the_policy_would_block():
    assert len(PAGE_TEMPLATES) > 50
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {what}: {match.group(0).strip()}"
        for path in PAGE_TEMPLATES
        for text in [without_comments(path.read_text())]
        for what, pattern in INLINE_CODE.items()
        for match in pattern.finditer(text)
    ]
    assert not found, "\n".join(found)


def test_the_scan_finds_what_the_policy_blocks():
    """The patterns above are not blind: each finds its own case and passes the allowed forms."""
    samples = {
        "inline <script>": "<script>alert(1)</script>",
        "<style> element": "<style>p{}</style>",
        "style attribute": '<p style="color:red">',
        "event handler attribute": '<button onclick="go()">',
        "javascript: URL": '<a href="javascript:void(0)">',
        "htmx hx-on": '<button hx-on:click="go()">',
        "htmx js: values": "<div hx-vals='js:{a: 1}'>",
    }
    for what, sample in samples.items():
        assert INLINE_CODE[what].search(sample), what
    allowed = '<script src="/static/js/a.js" defer></script><p class="x" data-print hidden><button data-on="1">'
    allowed += "{# an onclick= or a <style> in a comment #}{% comment %}\n<script>x()</script>\n{% endcomment %}"
    assert not any(pattern.search(without_comments(allowed)) for pattern in INLINE_CODE.values())


def test_htmx_is_told_not_to_insert_styles_nor_evaluate_code():
    """htmx's defaults insert a <style> for its indicator and eval hx-on: both blocked by the policy."""
    base = (ROOT / "templates" / "base.html").read_text()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", base).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert ".htmx-request .htmx-indicator" in (ROOT / "static" / "css" / "clea.css").read_text()


def test_the_api_documentation_loads_its_start_up_script_as_a_file(client, db):
    page = client.get(reverse("api_docs")).content.decode()
    assert not INLINE_CODE["inline <script>"].search(page) and "<style" not in page
    script = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)">', page)
    assert script is not None, page
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


# -- Cache-Control: no-store for signed-in people ------------------------------------------------------------------


def assert_never_stored(response) -> None:
    directives = {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, (response.request["PATH_INFO"], response.headers.get("Cache-Control"))


@pytest.mark.django_db
def test_pages_downloads_and_exports_of_a_signed_in_person_are_never_stored(
    client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="partially_validated")
    client = client_for(dossier.team.counsellor)
    evaluation = dossier.evaluations.get()
    responses = [
        client.get(reverse("home")),
        client.get(reverse("journey:dossier_detail", args=[dossier.pk])),
        client.get(reverse("evaluations:summary", args=[evaluation.pk])),
        client.get(reverse("evaluations:attestation_download", args=[dossier.attestations.get().pk])),
        client.get(reverse("candidates:dossier_export"), {"format": "csv"}),
        client.get(reverse("candidates:dossier_export"), {"format": "xlsx"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert_never_stored(response)
    assert responses[3]["Content-Type"] == "application/pdf"


def test_the_page_that_shows_a_new_api_token_once_is_never_stored(client_for, make_member):
    membership = make_member()
    # Minted from a session that gave its second factor (tests/organisations/test_two_factor.py).
    client = client_for(membership, two_factor=True)
    client.post(
        reverse("api_tokens"), {"name": "Logiciel", "membership": membership.pk, "lifetime": 30, "scope": "read_only"}
    )
    created = client.get(reverse("api_tokens"))
    assert created.context["created_key"] and created.context["created_key"] in page_text(created)
    assert_never_stored(created)


def test_api_answers_to_a_token_are_never_stored(make_member):
    import datetime

    from django.test import Client
    from django.utils import timezone

    from organisations.services import api_token_create

    _token, key = api_token_create(
        membership=make_member(), name="Logiciel", expires_at=timezone.now() + datetime.timedelta(days=30)
    )
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/dossiers/")
    assert response.status_code == 200
    assert_never_stored(response)


def test_static_files_stay_cacheable_for_a_signed_in_person_too(client_for, make_member):
    response = client_for(make_member()).get(settings.STATIC_URL + "css/clea.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
