"""Certif'Pro's fees: created by the events themselves, exactly once each, at the tariff of the day; quarterly
statements; the reporting of certificates to the Caisse des Dépôts."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pypdf import PdfReader

from clea_platform.certifications import Certification
from evaluations.models import Evaluation, EvaluationKind
from funding.models import (
    FeeEntry,
    FeeKind,
    Statement,
    Tariff,
    cdc_deadline,
    previous_quarter,
    quarter_bounds,
    quarter_of,
)
from funding.money import format_euros
from funding.selectors import certificates_overdue, certificates_to_report
from funding.services import (
    FundingError,
    fee_entries_catch_up,
    fee_entry_record,
    statement_generate,
    statement_render,
    statements_request,
)
from funding.tasks import fee_entries_sync_task, statement_generate_task
from juries.services import certificate_generate
from organisations.models import Habilitation, Role
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory
from tests.funding.support import awarded_certificate
from tests.journey import DossierFactory
from tests.juries.factories import make_certifpro

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("references")]


def a_day_in_previous_quarter() -> datetime.date:
    return quarter_bounds(*previous_quarter(timezone.localdate()))[0] + datetime.timedelta(days=10)


# -- Fee entries -----------------------------------------------------------------------------------------------


def test_closing_a_prior_evaluation_records_its_fee():
    dossier = DossierFactory(state="partially_validated")

    entry = FeeEntry.objects.get()
    evaluation = Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.PRIOR)
    assert (entry.kind, entry.certification, entry.organisation_id) == (
        FeeKind.PRIOR_EVALUATION,
        Certification.CLEA,
        dossier.organisation_id,
    )
    assert (entry.amount_cents, entry.incl_vat_cents) == (2000, 2400)
    assert (entry.evaluation, entry.dossier_id, entry.occurred_on) == (evaluation, dossier.pk, evaluation.ended_on)
    assert entry.source == f"evaluation:{evaluation.pk}"


def test_calling_the_hook_again_for_the_same_event_records_nothing_more():
    dossier = DossierFactory(state="partially_validated")
    evaluation = Evaluation.objects.get(dossier=dossier)
    first = FeeEntry.objects.get()

    assert fee_entry_record(kind=FeeKind.PRIOR_EVALUATION, source=evaluation) == first
    assert fee_entry_record(kind=FeeKind.PRIOR_EVALUATION, source=evaluation) == first
    assert FeeEntry.objects.count() == 1


def test_the_catch_up_task_records_a_missed_event_once_however_often_it_runs():
    Tariff.objects.filter(kind=FeeKind.PRIOR_EVALUATION).update(valid_from=timezone.localdate() + datetime.timedelta(1))
    DossierFactory(state="partially_validated")  # closed while no tariff applied: no fee recorded
    assert FeeEntry.objects.count() == 0
    Tariff.objects.filter(kind=FeeKind.PRIOR_EVALUATION).update(valid_from=datetime.date(2019, 7, 1))

    created = fee_entries_sync_task.delay().get()
    assert fee_entries_sync_task.delay().get() == 0
    assert fee_entries_catch_up() == 0
    # The prior evaluation's fee, and those of the team's CléA numérique habilitation (application, SIRET).
    assert created == FeeEntry.objects.count() == 3
    assert FeeEntry.objects.filter(kind=FeeKind.PRIOR_EVALUATION).count() == 1


def test_a_final_evaluation_owes_no_fee():
    DossierFactory(state="ready_for_jury", via_training=True)
    assert list(FeeEntry.objects.values_list("kind", flat=True)) == [FeeKind.PRIOR_EVALUATION]


def test_a_certificate_owes_its_fee_once_even_when_its_event_is_replayed():
    certificate = awarded_certificate()
    fee_entries_sync_task.delay()

    entry = FeeEntry.objects.get(kind=FeeKind.CERTIFICATE)
    assert (entry.certificate, entry.amount_cents, entry.occurred_on) == (certificate, 500, certificate.awarded_on)
    certificate_generate(decision_id=certificate.decision_id)
    assert fee_entry_record(kind=FeeKind.CERTIFICATE, source=certificate) == entry
    fee_entries_sync_task.delay()
    assert FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).count() == 1


def test_a_clea_numerique_certificate_costs_ten_euros():
    certificate = awarded_certificate(certification=Certification.CLEA_NUMERIQUE)
    entry = fee_entry_record(kind=FeeKind.CERTIFICATE, source=certificate)
    assert (entry.certification, entry.amount_cents, entry.incl_vat_cents) == (Certification.CLEA_NUMERIQUE, 1000, 1200)
    # CléA numérique has no fee per prior evaluation.
    assert not FeeEntry.objects.filter(kind=FeeKind.PRIOR_EVALUATION, certification=Certification.CLEA_NUMERIQUE)


def test_a_clea_numerique_habilitation_owes_the_application_fee_and_one_per_establishment():
    organisation = OrganisationFactory()
    HabilitationFactory(organisation=organisation, certification=Certification.CLEA_NUMERIQUE)
    HabilitationFactory(organisation=organisation, certification=Certification.CLEA)

    assert fee_entries_catch_up() == 2
    assert fee_entries_catch_up() == 0
    fees = dict(FeeEntry.objects.filter(organisation=organisation).values_list("kind", "amount_cents"))
    assert fees == {FeeKind.APPLICATION: 30000, FeeKind.ESTABLISHMENT: 15000}
    assert FeeEntry.objects.get(kind=FeeKind.ESTABLISHMENT).siret == organisation.siret

    # Renewed by Certif'Pro without an application: the new period's establishment fee only.
    first = Habilitation.objects.get(organisation=organisation, certification=Certification.CLEA_NUMERIQUE)
    renewal = HabilitationFactory(
        organisation=organisation,
        certification=Certification.CLEA_NUMERIQUE,
        valid_from=first.valid_until + datetime.timedelta(days=1),
        valid_until=first.valid_until + datetime.timedelta(days=700),
        previous=first,
    )
    assert fee_entries_catch_up() == 1
    assert list(FeeEntry.objects.filter(habilitation=renewal).values_list("kind", flat=True)) == [FeeKind.ESTABLISHMENT]


def test_the_tariff_in_force_on_the_event_date_applies():
    change = timezone.localdate() - datetime.timedelta(days=5)
    old = Tariff.objects.get(certification=Certification.CLEA, kind=FeeKind.PRIOR_EVALUATION)
    old.valid_until = change - datetime.timedelta(days=1)
    old.save()
    Tariff.objects.create(
        certification=Certification.CLEA, kind=FeeKind.PRIOR_EVALUATION, amount_cents=2500, valid_from=change
    )

    DossierFactory(state="partially_validated", evaluated_on=change - datetime.timedelta(days=3))
    DossierFactory(state="partially_validated", evaluated_on=change)

    assert sorted(FeeEntry.objects.values_list("amount_cents", flat=True)) == [2000, 2500]


def test_tariffs_of_a_kind_may_not_overlap():
    overlapping = Tariff(
        certification=Certification.CLEA,
        kind=FeeKind.CERTIFICATE,
        amount_cents=600,
        valid_from=datetime.date(2024, 1, 1),
    )
    with pytest.raises(ValidationError):
        overlapping.full_clean()


# -- Quarterly statements --------------------------------------------------------------------------------------


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_a_quarterly_statement_lists_the_fees_and_its_files_add_up(org_a):
    day = a_day_in_previous_quarter()
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA, valid_from=day)
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE, valid_from=day)
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=day)
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=day)
    DossierFactory(organisation=org_a, state="partially_validated")  # this quarter: on the next statement
    fee_entries_catch_up()

    statement = statement_generate(organisation_id=org_a.pk, year=day.year, quarter=quarter_of(day)[1])

    assert statement.entry_count == 4
    assert statement.total_cents == 2000 + 2000 + 30000 + 15000
    assert statement.total_incl_vat_cents == 2400 + 2400 + 36000 + 18000
    rows = _rows(statement.csv_file.read())
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    ttc = header.index("Montant TTC")
    assert sum(int(row[ttc].replace(",", "")) for row in lines) == int(total[ttc].replace(",", ""))
    assert int(total[ttc].replace(",", "")) == statement.total_incl_vat_cents
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(statement.pdf_file.read())).pages)
    assert format_euros(statement.total_incl_vat_cents).replace("\u00a0", " ") in text.replace("\u00a0", " ")
    assert FeeEntry.objects.filter(organisation=org_a, statement__isnull=True).count() == 1


def test_a_statement_is_produced_once_per_quarter_and_renders_again_identically(org_a):
    day = a_day_in_previous_quarter()
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=day)
    year, quarter = quarter_of(day)
    statement = statement_generate(organisation_id=org_a.pk, year=year, quarter=quarter)

    assert statement_generate_task.delay(organisation_id=org_a.pk, year=year, quarter=quarter).get() == statement.pk
    assert Statement.objects.count() == 1
    again = statement_render(statement)
    assert (again.sha256("csv"), again.sha256("pdf")) == (statement.csv_sha256, statement.pdf_sha256)
    with pytest.raises(PermissionError):
        statement.save()


def test_a_fee_recorded_late_goes_on_the_next_statement(org_a):
    year, quarter = previous_quarter(timezone.localdate())
    start, _end = quarter_bounds(year, quarter)
    older_day = start - datetime.timedelta(days=20)
    older_year, older_quarter = quarter_of(older_day)
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=older_day)
    older = statement_generate(organisation_id=org_a.pk, year=older_year, quarter=older_quarter)
    # An event of that older quarter whose fee is recorded only afterwards (by the catch-up task).
    Tariff.objects.filter(kind=FeeKind.PRIOR_EVALUATION).update(valid_from=timezone.localdate() + datetime.timedelta(1))
    late = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=older_day)
    Tariff.objects.filter(kind=FeeKind.PRIOR_EVALUATION).update(valid_from=datetime.date(2019, 7, 1))
    fee_entries_catch_up()
    current = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=start)

    statement = statement_generate(organisation_id=org_a.pk, year=year, quarter=quarter)

    assert older.entry_count == 1
    assert statement.entry_count == 2
    assert FeeEntry.objects.get(dossier=late).statement == statement
    assert FeeEntry.objects.get(dossier=current).statement == statement


def test_no_statement_for_a_quarter_not_yet_over(org_a):
    DossierFactory(organisation=org_a, state="partially_validated")
    with pytest.raises(FundingError, match="pas terminé"):
        statement_generate(
            organisation_id=org_a.pk, year=timezone.localdate().year, quarter=quarter_of(timezone.localdate())[1]
        )


def test_certifpro_queues_the_statements_of_every_organisation_with_fees(
    org_a, org_b, django_capture_on_commit_callbacks
):
    day = a_day_in_previous_quarter()
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=day)
    DossierFactory(organisation=org_b, state="partially_validated", evaluated_on=day)

    with django_capture_on_commit_callbacks(execute=True):
        queued = statements_request(year=day.year, quarter=quarter_of(day)[1], by=make_certifpro())

    assert sorted(queued) == sorted([org_a.pk, org_b.pk])
    assert Statement.objects.count() == 2
    with pytest.raises(PermissionDenied):
        statements_request(
            year=day.year, quarter=quarter_of(day)[1], by=MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN)
        )


# -- Caisse des Dépôts --------------------------------------------------------------------------------------


def test_a_certificate_unreported_after_three_months_is_overdue():
    recent = awarded_certificate(days_ago=10)
    old = awarded_certificate(days_ago=100)
    assert list(certificates_to_report()) == [old, recent]
    assert list(certificates_overdue()) == [old]
    assert list(certificates_overdue(today=cdc_deadline(recent.awarded_on) + datetime.timedelta(days=1))) == [
        old,
        recent,
    ]


def test_the_deadline_is_three_calendar_months_later_clamped_to_the_month_end():
    assert cdc_deadline(datetime.date(2026, 1, 15)) == datetime.date(2026, 4, 15)
    assert cdc_deadline(datetime.date(2025, 11, 30)) == datetime.date(2026, 2, 28)
    assert cdc_deadline(datetime.date(2026, 10, 31)) == datetime.date(2027, 1, 31)
