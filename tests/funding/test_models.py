"""The funding models against the platform's consistency rules, money formatting, and the demo data."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from funding.models import (
    BatchStatus,
    ClaimBatch,
    FeeEntry,
    FundingLine,
    LineState,
    Statement,
    add_months,
    previous_quarter,
)
from funding.money import format_euros, incl_vat, parse_euros
from organisations.models import Organisation

# What tests/test_platform.py should list for this app (see the report): national reference data, and documents.
NATIONAL = {"funding.Funder", "funding.Tariff", "funding.CdcSettings", "funding.CdcFlux", "funding.CdcReportImport"}
DOCUMENTS = {"funding.ClaimBatch", "funding.Statement", "funding.FundingProof", "funding.CdcFlux"}


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def test_every_funding_model_points_at_its_organisation_and_protects_it():
    offenders = []
    for model in apps.get_app_config("funding").get_models():
        if _label(model) in NATIONAL:
            continue
        field = next(
            (f for f in model._meta.get_fields() if f.name == "organisation" and f.related_model is Organisation), None
        )
        if field is None and not getattr(model, "tenant_path", None):
            offenders.append(_label(model))
        elif field is not None and field.remote_field.on_delete is not models.PROTECT:
            offenders.append(f"{_label(model)}.organisation")
    assert not offenders


def test_funding_documents_and_what_points_at_them_are_protected():
    documents = DOCUMENTS | {"evaluations.Attestation", "juries.Certificate", "juries.SessionMinutes"}
    offenders = [
        f"{_label(model)}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey)
        and (_label(model) in documents or _label(field.related_model) in documents)
        and (_label(model).startswith("funding.") or _label(field.related_model).startswith("funding."))
        and field.remote_field.on_delete is not models.PROTECT
    ]
    assert not offenders


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (0, "0,00\u00a0€"),
        (5, "0,05\u00a0€"),
        (123450, "1\u00a0234,50\u00a0€"),
        (100000000, "1\u00a0000\u00a0000,00\u00a0€"),
        (-4000, "-40,00\u00a0€"),
    ],
)
def test_amounts_show_in_french_format(cents, shown):
    # The files' format ("1234,50", a number to a spreadsheet) is clea_platform.spreadsheets.Money's
    # (tests/test_spreadsheets.py).
    assert format_euros(cents) == shown


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1 234,50", 123450), ("1234.5", 123450), ("1\u00a0234,50 €", 123450), ("20", 2000), ("0,05", 5)],
)
def test_typed_amounts_are_read_as_cents(typed, cents):
    assert parse_euros(typed) == cents


@pytest.mark.parametrize("typed", ["", "douze", "1,234,50", "-3", "1,999"])
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        parse_euros(typed)


def test_vat_is_computed_on_cents_half_up():
    assert incl_vat(45000, Decimal("20")) == 54000
    assert incl_vat(12345, Decimal("20")) == 14814  # 2469.0
    assert incl_vat(99999, Decimal("0")) == 99999
    assert incl_vat(101, Decimal("20")) == 121  # 20.2 → 20


def test_months_are_added_on_the_calendar():
    import datetime

    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add_months(datetime.date(2026, 3, 15), -3) == datetime.date(2025, 12, 15)


@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-01-01", (2025, 4)), ("2026-03-31", (2025, 4)), ("2026-04-01", (2026, 1)), ("2026-12-31", (2026, 3))],
)
def test_the_previous_quarter_is_the_last_finished_one_across_the_new_year(today, expected):
    import datetime

    assert previous_quarter(datetime.date.fromisoformat(today)) == expected


@pytest.mark.django_db
def test_the_demo_funding_shows_every_state_and_an_issued_batch_and_is_idempotent():
    from funding.demo import seed_funding
    from organisations.demo import seed_foundation

    call_command("seed_demo", force_demo=True, verbosity=0, without_communes=True)  # seeds the funding demo too
    orgs = seed_foundation()
    counts = (
        FundingLine.objects.count(),
        ClaimBatch.objects.count(),
        FeeEntry.objects.count(),
        Statement.objects.count(),
    )
    assert seed_funding(orgs) == 0
    assert (
        FundingLine.objects.count(),
        ClaimBatch.objects.count(),
        FeeEntry.objects.count(),
        Statement.objects.count(),
    ) == counts

    nord = orgs["nord"]
    assert set(FundingLine.objects.filter(organisation=nord).values_list("state", flat=True)) == set(LineState.values)
    assert ClaimBatch.objects.filter(organisation=nord, status=BatchStatus.ISSUED).count() == 1
    assert nord.funding_payments.count() == 1
    assert FeeEntry.objects.filter(organisation=nord).exists()
    assert Statement.objects.filter(organisation=nord).count() == 1


@pytest.mark.django_db
def test_every_funding_page_opens_on_the_demo_data_for_each_role(client_for):
    from django.urls import reverse

    from funding.demo import seed_funding
    from funding.models import Payment
    from organisations.demo import seed_foundation
    from organisations.models import Membership, Role

    call_command("seed_demo", force_demo=True, verbosity=0, without_communes=True)
    seed_funding(seed_foundation())
    batch = ClaimBatch.objects.get()
    draft = FundingLine.objects.get(state=LineState.DRAFT)
    granted = FundingLine.objects.get(state=LineState.GRANTED)
    nord_counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    nord_admin = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.ORG_ADMIN)
    certifpro = Membership.objects.get(user__email="admin@certifpro.demo")
    pages = {
        nord_counsellor: [
            reverse("funding:line_list"),
            reverse("funding:line_detail", args=[granted.pk]),
            reverse("funding:line_edit", args=[draft.pk]),
            reverse("funding:line_create", args=[draft.dossier_id]),
            reverse("funding:line_transition", args=[granted.pk, "cancel"]),
            reverse("journey:dossier_detail", args=[granted.dossier_id]),
        ],
        nord_admin: [
            reverse("funding:claim_list"),
            reverse("funding:batch_list"),
            reverse("funding:batch_detail", args=[batch.pk]),
            reverse("funding:payment_create", args=[batch.pk]),
            reverse("funding:payment_list"),
            reverse("funding:payment_detail", args=[Payment.objects.get().pk]),
            reverse("funding:fee_list"),
            reverse("funding:statement_list"),
        ],
        certifpro: [
            reverse("funding:national"),
            reverse("funding:fee_list"),
            reverse("funding:statement_list"),
            reverse("funding:batch_list"),
            reverse("funding:line_list"),
            reverse("funding:line_detail", args=[granted.pk]),
            reverse("funding:cdc_list"),
            reverse("funding:cdc_report_import"),
        ],
    }
    for membership, urls in pages.items():
        client = client_for(membership)
        for url in urls:
            assert client.get(url).status_code == 200, (membership, url)
