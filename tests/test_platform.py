import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import reverse
from whitenoise.compress import Compressor

from juries.models import Decision, JuryMember
from organisations.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    demo_accounts_with_two_factor,
    demo_totp_code,
)
from organisations.models import Membership, Organisation, User
from training.models import TrainingPlan

# The apps whose code lives in this repository (not an installed package): a new app is checked from day one.
PROJECT_APPS = {
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).is_relative_to(settings.BASE_DIR) and "site-packages" not in Path(config.path).parts
}

# Models that are not owned by one organisation, and why. Every other model must point at its organisation.
NOT_TENANT_OWNED = {
    "organisations.Organisation": "the tenant itself",
    "organisations.User": "a person may belong to several organisations, through memberships",
    "organisations.AuditLog": "platform-wide; the organisation is recorded when there is one",
    "credentials.SigningKey": "the platform's own keys, signing every organisation's credentials",
    "organisations.UserSession": "a person's login, whatever organisation they work for in it",
    "referentiels.Referentiel": "national, owned by Certif'Pro",
    "referentiels.Domain": "part of a national référentiel",
    "referentiels.SubDomain": "part of a national référentiel",
    "referentiels.Criterion": "part of a national référentiel",
    "directory.Commune": "national reference data (INSEE's Code officiel géographique), loaded by load_communes",
    "directory.CommunePostcode": "part of the national commune table",
    "funding.Funder": "national list of funders and schemes, kept by Certif'Pro",
    "funding.Tariff": "Certif'Pro's national fee tariffs",
    "funding.CdcSettings": "Certif'Pro's identifiers at the Caisse des Dépôts and the certifications' RS codes",
    "funding.CdcFlux": "Certif'Pro's national flux to the Caisse des Dépôts (its declarations lead to organisations)",
    "funding.CdcReportImport": "the Caisse des Dépôts' report of a national flux, imported by Certif'Pro",
    "notifications.NotificationPreference": "a person's own choice, whatever organisation they work for",
    "evaluations.PixMappingVersion": "national: Certif'Pro's table from Pix levels to CléA numérique domains",
    "evaluations.PixMappingRule": "part of a national mapping version",
    "indicators.CubeRow": "counts per month, region and certification: many organisations' dossiers, no one's own",
    "indicators.CubeDelay": "a histogram per month, region and certification, over many organisations",
    "indicators.CubeGap": "counts per month, region and certification, over many organisations",
    "indicators.CubeRefresh": "when the national cube was recounted",
}

# Generated documents: whatever points at one must protect it (a legal record is never cascaded away).
DOCUMENT_MODELS = {
    "evaluations.Attestation",
    "juries.Certificate",
    "juries.SessionMinutes",
    "funding.ClaimBatch",
    "funding.Statement",
    "funding.FundingProof",
    "funding.CdcFlux",
    "outbox.DocumentVersion",
}


def tenant_path_problem(model: type[models.Model], path: str) -> str | None:
    """Follow `path` ("submission__dossier__organisation") field by field through the models' _meta: None when
    every step is a non-null foreign key (or one-to-one) of the model it leaves and the last one reaches
    Organisation, so that each row has exactly one organisation; else what is wrong, for the failure message."""
    current = model
    for name in path.split("__"):
        try:
            field = current._meta.get_field(name)
        except FieldDoesNotExist:
            return f"{current._meta.label} has no field `{name}`"
        if not field.concrete or not (field.many_to_one or field.one_to_one):
            return f"{current._meta.label}.{name} is not a foreign key: a row would not lead to one organisation"
        if field.null:
            return f"{current._meta.label}.{name} may be null: a row would have no organisation"
        current = field.related_model
    if current is not Organisation:
        return f"it ends at {current._meta.label}, not at organisations.Organisation"
    return None


def test_every_tenant_owned_model_points_at_its_organisation_and_protects_it():
    assert {"organisations", "candidates", "evaluations", "training", "juries", "funding"} <= PROJECT_APPS
    offenders = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model.__name__}"
        if model._meta.app_label not in PROJECT_APPS or label in NOT_TENANT_OWNED:
            continue
        field = next(
            (
                f
                for f in model._meta.get_fields()
                if isinstance(f, models.ForeignKey) and f.related_model is Organisation and f.name == "organisation"
            ),
            None,
        )
        path = getattr(model, "tenant_path", None)
        if field is None and not path:
            offenders.append(f"{label}: no `organisation` foreign key nor `tenant_path`")
        elif field is not None and path:
            offenders.append(f"{label}: an `organisation` foreign key and a `tenant_path`: say it once")
        elif field is not None and field.remote_field.on_delete is not models.PROTECT:
            offenders.append(f"{label}.organisation must be PROTECT")
        elif path and (problem := tenant_path_problem(model, path)):
            offenders.append(f"{label}.tenant_path = {path!r}: {problem}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("model", "path", "problem"),
    [
        (Decision, "submission__dossier__organisation", None),
        (Decision, "submision__dossier__organisation", "juries.Decision has no field `submision`"),
        (Decision, "submission__session", "it ends at juries.JurySession, not at organisations.Organisation"),
        (TrainingPlan, "target_criteria", "training.TrainingPlan.target_criteria is not a foreign key"),
        (TrainingPlan, "sessions__plan__organisation", "training.TrainingPlan.sessions is not a foreign key"),
        (JuryMember, "represented_organisation", "juries.JuryMember.represented_organisation may be null"),
    ],
)
def test_a_broken_tenant_path_is_told_apart(model, path, problem):
    found = tenant_path_problem(model, path)
    assert found == problem if problem is None else found.startswith(problem)


def test_documents_and_what_they_record_are_protected():
    offenders = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.ForeignKey):  # OneToOneField is one too
                continue
            target = f"{field.related_model._meta.app_label}.{field.related_model.__name__}"
            source = f"{model._meta.app_label}.{model.__name__}"
            if (
                target in DOCUMENT_MODELS or source in DOCUMENT_MODELS
            ) and field.remote_field.on_delete is not models.PROTECT:
                offenders.append(f"{source}.{field.name}")
    assert not offenders, offenders
    assert DOCUMENT_MODELS <= {f"{m._meta.app_label}.{m.__name__}" for m in apps.get_models()}


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] in {"ok", "eager"}


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_every_demo_account_can_log_in(client, settings, capsys):
    # `make run`'s embedded demo (DEBUG on, no DATABASE_URL) needs no flag; elsewhere --force-demo seeds it anyway.
    settings.DEBUG, settings.EMBEDDED = True, True
    call_command("seed_demo", verbosity=0)
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    settings.DEBUG, settings.EMBEDDED = False, False
    # Without the 35,000 communes the second time (5 s): their loader's own second run changes nothing
    # (tests/directory/test_places.py), and they hold no account.
    call_command("seed_demo", force_demo=True, verbosity=0, without_communes=True)
    assert (Organisation.objects.count(), User.objects.count(), Membership.objects.count()) == counts
    # The statistics of the demo are not empty: seed_demo rebuilds the facts and the cube at its end.
    from indicators.models import CubeRow, DossierFact

    assert DossierFact.objects.exists() and CubeRow.objects.exists()
    assert DEMO_TOTP_SECRET in capsys.readouterr().out, "make run prints the demo's TOTP secret"
    with_code = demo_accounts_with_two_factor()
    assert {a.email for a in with_code} == {
        "conseillere@evaluateur-nord.demo",
        "jure.employeur@jury.demo",
        "jure.salarie@jury.demo",
        "admin@certifpro.demo",
    }
    for account in ACCOUNTS:
        response = client.post(reverse("login"), {"username": account.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, account.email
        home = client.get(reverse("home"))
        if account in with_code:
            # The README's way: the code of the shared secret, as `manage.py demo_totp` prints it.
            assert home.url.startswith(reverse("two_factor_verify")), account.email
            verified = client.post(home.url, {"code": demo_totp_code()})
            assert verified.status_code == 302 and verified.url == reverse("home"), account.email
            home = client.get(reverse("home"))
        assert home.status_code == 200, account.email
        client.post(reverse("logout"))
    assert User.objects.get(email="admin@certifpro.demo").is_staff
    assert not User.objects.get(email="conseillere@evaluateur-nord.demo").is_staff


@pytest.mark.django_db
@pytest.mark.parametrize(("debug", "embedded"), [(False, True), (True, False), (False, False)])
def test_seed_demo_refuses_outside_the_embedded_demo_unless_forced(settings, debug, embedded):
    """Its accounts share a published password, one of them a superuser: on a real database that is a way in."""
    settings.DEBUG, settings.EMBEDDED = debug, embedded
    with pytest.raises(CommandError, match="--force-demo") as refused:
        call_command("seed_demo", verbosity=0)
    assert "Refusé" in str(refused.value) and "Refused" in str(refused.value)
    assert ("DEBUG est désactivé" in str(refused.value)) is not debug
    assert ("DATABASE_URL est défini" in str(refused.value)) is not embedded
    assert not User.objects.exists() and not Organisation.objects.exists()


def test_pages_load_no_asset_from_another_host(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "/static/css/clea.css" in body and "/static/vendor/htmx/htmx.min.js" in body
    assert "https://" not in body and "http://" not in body.replace('xmlns="http://', "")


def test_collectstatic_with_the_production_storage_resolves_every_asset(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    # Brotli at its highest level over the vendored JavaScript and source maps (12 of the 13 MB, mostly the API
    # docs' bundles) was 95 % of this test's 50 s of CPU. Every file is still hashed and every reference resolved;
    # the compression step still runs, on the stylesheets and the rest.
    settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "js", "map")
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert {"css/clea.css", "vendor/htmx/htmx.min.js"} <= set(manifest["paths"])
    stylesheet = tmp_path / manifest["paths"]["css/clea.css"]
    assert Path(f"{stylesheet}.gz").exists()


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI only: proves CI runs on the real services")
def test_ci_runs_on_postgresql_with_a_real_broker(db):
    from django.db import connection

    from clea_platform.celery import app

    assert connection.vendor == "postgresql"
    assert app.conf.broker_url.startswith("redis://")
    assert not settings.CELERY_TASK_ALWAYS_EAGER


@pytest.mark.django_db
def test_every_admin_changelist_opens_for_a_certifpro_administrator(client):
    from django.contrib import admin

    from tests.clients import verified_login
    from tests.factories import UserFactory

    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def _start(**environment: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter, as a server starting with this environment would."""
    # The embedded mode: no database or broker given (CI's would make DEBUG default to off).
    unset = {"SITE_URL", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, "DJANGO_SETTINGS_MODULE": "clea_platform.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("site_url", "refused"),
    [
        (None, "SITE_URL must be set when DEBUG is off"),
        ("clea.example.fr", "SITE_URL must be a scheme and a host"),
        ("https://clea.example.fr/plateforme", "SITE_URL must be a scheme and a host"),
        ("https://clea.example.fr", None),
        ("https://clea.example.fr/", None),
    ],
)
def test_with_debug_off_the_public_address_must_be_given_and_well_formed(site_url, refused):
    """Every absolute link (QR codes, PDFs, e-mails) starts with it: a guess would print dead links."""
    environment = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}
    if site_url is not None:
        environment["SITE_URL"] = site_url
    started = _start(**environment)
    if refused is None:
        assert started.returncode == 0, started.stderr
    else:
        assert started.returncode != 0 and refused in started.stderr


def test_the_embedded_mode_guesses_the_address_of_make_run():
    started = _start()
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(
    ("site_url", "warned"),
    [("http://localhost:8000", True), ("http://127.0.0.1:8000", True), ("https://clea.example.fr", False)],
)
def test_check_deploy_warns_of_a_loopback_site_url(settings, site_url, warned):
    """The API's verification_url and the certificates' QR codes follow SITE_URL: a loopback one is a dead link."""
    from clea_platform.checks import site_url_is_public

    settings.SITE_URL = site_url
    assert [w.id for w in site_url_is_public()] == (["clea_platform.W001"] if warned else [])
