"""Pix results for CléA numérique (issue 21): reading the file, matching lines to dossiers by identity and birth date
(never guessed), recording a result through the grid's services, and who may see what."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, DossierState
from clea_platform.certifications import Certification
from evaluations import pix_results
from evaluations.models import (
    CriterionResultValue,
    EvaluationKind,
    EvaluationStatus,
    PixImport,
    PixImportStatus,
    PixMappingVersion,
    PixRowStatus,
)
from evaluations.services import (
    PixImportRefused,
    pix_import_apply,
    pix_import_create,
    pix_mapping_load_provisional,
    pix_row_apply,
    pix_row_resolve,
)
from organisations.models import AuditLog, Role
from tests.clients import logged_in_client
from tests.evaluations.support import line, pix_file
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory, SharedDossier
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Organisation A: Paul Roux (alone), Léa Martin and Léa Dupont born Martin the same day (homonyms under the
    birth name); organisation B: Jean Petit. All CléA numérique, opened (waiting for the prior evaluation)."""
    with shared_rows(django_db_blocker):
        # The migration's provisional mapping, again: a transactional test elsewhere may have flushed it.
        pix_mapping_load_provisional()
        org_a = OrganisationFactory(name="Évaluateur A")
        org_b = OrganisationFactory(name="Évaluateur B")
        numerique = {"certification": Certification.CLEA_NUMERIQUE, "state": "opened"}
        roux = DossierFactory(
            organisation=org_a, first_name="Paul", last_name="Roux", birth_date=datetime.date(1985, 4, 12), **numerique
        )
        martin = DossierFactory(
            organisation=org_a, first_name="Léa", last_name="Martin", birth_date=datetime.date(1990, 3, 15), **numerique
        )
        dupont = DossierFactory(
            organisation=org_a, first_name="Léa", last_name="Dupont", birth_date=datetime.date(1990, 3, 15), **numerique
        )
        Candidate.objects.filter(pk=dupont.candidate_id).update(birth_name="Martin")
        petit = DossierFactory(
            organisation=org_b, first_name="Jean", last_name="Petit", birth_date=datetime.date(1980, 1, 1), **numerique
        )
        yield {
            "roux": SharedDossier.of(roux),
            "martin": SharedDossier.of(martin),
            "dupont": SharedDossier.of(dupont),
            "petit": SharedDossier.of(petit),
        }


def evaluator_of(shared):
    return shared.read().team.evaluator


def upload(world, *lines):
    content = pix_file(*lines)
    return pix_import_create(content=content, filename="resultats.csv", by=evaluator_of(world["roux"]))


# -- Reading ---------------------------------------------------------------------------------------------------


def test_pix_file_with_semicolons_and_bom_is_read_with_levels_and_french_dates():
    lines = pix_results.parse(pix_file(line("123", "Paul", "Roux", "12/04/1985")))
    assert len(lines) == 1
    read = lines[0]
    assert (read.first_name, read.last_name, read.birth_date) == ("Paul", "Roux", datetime.date(1985, 4, 12))
    assert read.taken_on == timezone.localdate()
    assert read.levels["5.2"] == 2 and read.levels["3.2"] is None and read.levels["1.1"] == 0
    assert read.raw["Numéro de certification"] == "123" and not read.errors


def test_comma_separated_windows_file_without_bom_is_read_too():
    content = pix_file(line("1", "Hélène", "Noël", "1985-04-12", sep=","), sep=",", bom=False, encoding="cp1252")
    (read,) = pix_results.parse(content)
    assert (read.first_name, read.last_name, read.birth_date) == ("Hélène", "Noël", datetime.date(1985, 4, 12))


def test_bad_lines_keep_their_cells_and_say_what_is_wrong_in_french():
    bad_date, bad_level, rejected = pix_results.parse(
        pix_file(
            line("1", "Paul", "Roux", "31/02/1985"),
            line("2", "Paul", "Roux", "12/04/1985", levels="9;3;0;2;2;2;1;3;-;-;-;2;2;-;1;x"),
            line("3", "Paul", "Roux", "12/04/1985", status="Rejetée"),
        )
    )
    assert bad_date.errors == ["Date de naissance illisible : « 31/02/1985 » (attendu : JJ/MM/AAAA)."]
    assert len(bad_level.errors) == 2 and "compétence 1.1 : « 9 »" in bad_level.errors[0]
    assert "« Rejetée »" in rejected.errors[0]
    assert bad_date.raw["Date de naissance"] == "31/02/1985"


def test_a_file_without_the_required_columns_is_refused_as_a_whole():
    with pytest.raises(pix_results.PixFileError, match="Colonnes manquantes : « Date de naissance »"):
        pix_results.parse("Prénom;Nom;1.1;Date de passage de la certification\nPaul;Roux;2;01/01/2026\n".encode())


def test_a_refused_file_is_kept_with_its_reason(world):
    pix_import = pix_import_create(content=b"\x00\x01 pas un csv", filename="x.csv", by=evaluator_of(world["roux"]))
    assert pix_import.status == PixImportStatus.REFUSED and "CSV" in pix_import.error
    assert pix_import.file.read() == b"\x00\x01 pas un csv"


# -- Matching --------------------------------------------------------------------------------------------------


def test_lines_match_exactly_one_dossier_or_wait_for_a_person(world):
    pix_import = upload(
        world,
        line("1", "PAUL", "roux", "12/04/1985"),  # one dossier: matched, names folded
        line("2", "Léa", "Martin", "15/03/1990"),  # Léa Martin, and Léa Dupont born Martin: several
        line("3", "Jean", "Petit", "01/01/1980"),  # organisation B's: never seen, so none
        line("4", "Paul", "Roux", "13/04/1985"),  # same names, another birth date: none
        line("5", "Paul", "Roux", "bientôt"),
    )
    rows = {r.line_number - 1: r for r in pix_import.rows.all()}
    assert rows[1].status == PixRowStatus.MATCHED and rows[1].dossier_id == world["roux"].pk
    assert (rows[2].status, rows[2].candidates_found, rows[2].dossier_id) == (PixRowStatus.UNMATCHED, 2, None)
    assert (rows[3].status, rows[3].candidates_found) == (PixRowStatus.UNMATCHED, 0)
    assert (rows[4].status, rows[4].candidates_found) == (PixRowStatus.UNMATCHED, 0)
    assert rows[5].status == PixRowStatus.INVALID
    assert (pix_import.rows_total, pix_import.rows_matched, pix_import.rows_unmatched, pix_import.rows_invalid) == (
        5,
        1,
        3,
        1,
    )
    assert pix_import.mapping_version == PixMappingVersion.objects.get(is_current=True)
    assert pix_import.mapping_version.is_provisional
    assert AuditLog.objects.filter(action="pix_import.create", details__matched=1).exists()


def test_certifpro_matches_across_organisations(world, make_member):
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN)
    pix_import = pix_import_create(
        content=pix_file(line("3", "Jean", "Petit", "01/01/1980")), filename="national.csv", by=certifpro
    )
    assert pix_import.rows.get().dossier_id == world["petit"].pk


def test_a_person_resolves_a_line_only_with_a_dossier_they_may_see(world):
    pix_import = upload(world, line("2", "Léa", "Martin", "15/03/1990"))
    row = pix_import.rows.get()
    by = evaluator_of(world["roux"])
    with pytest.raises(PixImportRefused):
        pix_row_resolve(row=row, by=by, dossier=world["petit"].read())
    pix_row_resolve(row=row, by=by, dossier=world["martin"].read())
    row.refresh_from_db()
    assert (row.status, row.dossier_id, row.resolved_by_id) == (PixRowStatus.RESOLVED, world["martin"].pk, by.user_id)


# -- Applying --------------------------------------------------------------------------------------------------


def test_applying_records_the_prior_evaluation_through_the_grid_services_with_its_source(world):
    pix_import = upload(world, line("77", "Paul", "Roux", "12/04/1985"))
    row = pix_import.rows.get()
    by = evaluator_of(world["roux"])
    evaluation = pix_row_apply(row=row, by=by)
    evaluation.refresh_from_db()
    assert (evaluation.kind, evaluation.status, evaluation.evaluator_id) == (
        EvaluationKind.PRIOR,
        EvaluationStatus.CLOSED,
        by.user_id,
    )
    assert evaluation.pix_row == row and evaluation.pix_row.pix_import.file
    assert evaluation.started_on == evaluation.ended_on == timezone.localdate()
    results = dict(evaluation.results.values_list("criterion__subdomain__domain__code", "result").distinct())
    assert results == {"1": CriterionResultValue.ACQUIRED, "2": CriterionResultValue.NOT_ACQUIRED}
    dossier = world["roux"].read()
    assert dossier.state == DossierState.PARTIALLY_VALIDATED  # the grid's close moved it on
    row.refresh_from_db()
    assert row.status == PixRowStatus.APPLIED and row.domain_results == {"1": True, "2": False, "3": True, "4": True}
    assert AuditLog.objects.filter(action="dossier.close_prior_evaluation").exists()  # the grid close's transition
    assert AuditLog.objects.filter(action="pix_row.apply", details__mapping_version=pix_import.mapping_version_id)
    assert pix_import.mapping_version.is_locked
    with pytest.raises(PixImportRefused, match="déjà enregistré"):
        pix_row_apply(row=row, by=by)


def test_applying_the_whole_import_goes_through_the_outbox_and_skips_refusals(
    world, django_capture_on_commit_callbacks
):
    pix_import = upload(world, line("1", "Paul", "Roux", "12/04/1985", taken="02/11/2099"))
    with django_capture_on_commit_callbacks(execute=True):
        pix_import_apply(pix_import=pix_import, by=evaluator_of(world["roux"]))
    pix_import.refresh_from_db()
    row = pix_import.rows.get()
    # A certification dated in the future: the grid's own rule refuses it, written on the line, nothing recorded.
    assert row.status == PixRowStatus.MATCHED and "futur" in row.error
    assert pix_import.status == PixImportStatus.DONE and pix_import.rows_applied == 0
    assert world["roux"].read().state == DossierState.OPENED


def test_only_an_evaluator_records_results(world, make_member):
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN)
    pix_import = pix_import_create(
        content=pix_file(line("1", "Paul", "Roux", "12/04/1985")), filename="n.csv", by=certifpro
    )
    with pytest.raises(PixImportRefused, match="Seul un évaluateur"):
        pix_row_apply(row=pix_import.rows.get(), by=certifpro)
    counsellor = world["roux"].read().team.counsellor
    with pytest.raises(PermissionDenied):
        pix_import_create(content=pix_file(), filename="n.csv", by=counsellor)


# -- Screens ---------------------------------------------------------------------------------------------------


def test_screens_answer_403_to_other_roles_and_404_to_other_organisations(world, make_member):
    pix_import = upload(world, line("1", "Paul", "Roux", "12/04/1985"))
    detail = reverse("evaluations:pix_import", args=[pix_import.pk])
    row_url = reverse("evaluations:pix_row_resolve", args=[pix_import.pk, pix_import.rows.get().pk])
    counsellor = world["roux"].read().team.counsellor
    assert logged_in_client(counsellor).get(reverse("evaluations:pix_imports")).status_code == 403
    other = evaluator_of(world["petit"])
    for url in (detail, row_url, reverse("evaluations:pix_import_file", args=[pix_import.pk])):
        assert logged_in_client(other).get(url).status_code == 404
    assert logged_in_client(make_member(role=Role.CERTIFPRO_ADMIN)).get(detail).status_code == 200


def test_evaluator_uploads_filters_and_resolves_on_screen(world, django_assert_max_num_queries):
    client = logged_in_client(evaluator_of(world["roux"]))
    content = pix_file(line("1", "Paul", "Roux", "12/04/1985"), line("2", "Léa", "Martin", "15/03/1990"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("evaluations:pix_imports"), {"file": SimpleUploadedFile("r.csv", content)})
    pix_import = PixImport.objects.latest("pk")
    assert response.status_code == 302 and pix_import.rows_total == 2
    with django_assert_max_num_queries(20):
        page = client.get(reverse("evaluations:pix_import", args=[pix_import.pk]), {"statut": "a-rapprocher"})
    assert "Léa MARTIN" in page.text and "Paul ROUX" not in page.text
    row = pix_import.rows.get(line_number=3)
    url = reverse("evaluations:pix_row_resolve", args=[pix_import.pk, row.pk])
    assert "Dupont" in client.get(url).text  # the homonym is offered, not chosen
    assert client.post(url, {"dossier": world["martin"].pk}).status_code == 302
    row.refresh_from_db()
    assert row.status == PixRowStatus.RESOLVED and row.dossier_id == world["martin"].pk
    refused = client.post(url.replace(str(row.pk), str(row.pk)), {"reference": "NIMPORTE"})
    assert refused.status_code == 200 and "Aucun dossier" in refused.text


# -- The mapping in the admin ----------------------------------------------------------------------------------


def test_certifpro_copies_the_provisional_mapping_edits_the_copy_and_makes_it_current(world, admin_client):
    from evaluations.models import PixMappingRule
    from evaluations.services import pix_mapping_new_version

    provisional = PixMappingVersion.objects.get(is_current=True)
    assert str(provisional) == "2026-provisoire (provisoire)" and provisional.rules.count() == 10
    changelist = admin_client.get(reverse("admin:evaluations_pixmappingversion_changelist"))
    assert changelist.status_code == 200 and "2026-provisoire" in changelist.text
    assert (
        admin_client.get(reverse("admin:evaluations_pixmappingversion_change", args=[provisional.pk])).status_code
        == 200
    )
    copy = pix_mapping_new_version(source=provisional, label="2027")
    PixMappingRule.objects.filter(version=copy, competence="1.1").update(minimum_level=3)
    changelist = reverse("admin:evaluations_pixmappingversion_changelist")
    admin_client.post(changelist, {"action": "make_current", "_selected_action": [copy.pk]})
    assert list(PixMappingVersion.objects.filter(is_current=True)) == [copy]
    assert AuditLog.objects.filter(action="pix_mapping.make_current", object_id=str(copy.pk)).exists()
    assert copy.domain_results({"1.1": 2, "1.3": 4}).get("2") is False
    assert provisional.domain_results({"1.1": 2, "1.3": 4}).get("2") is True


def test_the_list_and_an_import_cost_the_same_queries_with_more_rows(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in_client(evaluator_of(world["roux"]))
    small = upload(world, line("1", "Paul", "Roux", "12/04/1985"), line("2", "Léa", "Martin", "15/03/1990"))
    people = [line(str(n), "Léa", "Martin", "15/03/1990") for n in range(6)]
    big = upload(world, line("1", "Paul", "Roux", "12/04/1985"), *people)
    client.get(reverse("evaluations:pix_imports"))  # the session's first request

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert count(reverse("evaluations:pix_import", args=[small.pk])) == count(
        reverse("evaluations:pix_import", args=[big.pk])
    )
    few = count(reverse("evaluations:pix_imports"))
    upload(world, line("1", "Paul", "Roux", "12/04/1985"))
    assert count(reverse("evaluations:pix_imports")) == few


def test_anonymising_the_person_erases_what_the_pix_line_said_of_them(world):
    from django.utils import timezone

    from privacy.services import candidate_anonymise

    pix_import = upload(world, line("9", "Paul", "Roux", "12/04/1985"))
    candidate_anonymise(candidate=world["roux"].read().candidate, now=timezone.now())
    row = pix_import.rows.get()
    assert (row.first_name, row.last_name, row.birth_date, row.raw) == ("", "", None, {})
    assert row.dossier_id == world["roux"].pk and row.levels["5.2"] == 2


def test_certifpro_hands_its_matched_lines_over_to_the_evaluators_of_the_dossiers(world, make_member):
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN)
    pix_import = pix_import_create(
        content=pix_file(line("1", "Paul", "Roux", "12/04/1985"), line("2", "Jean", "Petit", "01/01/1980")),
        filename="national.csv",
        by=certifpro,
    )
    roux_row = pix_import.rows.get(dossier_id=world["roux"].pk)
    apply_url = reverse("evaluations:pix_row_apply", args=[roux_row.pk])
    evaluator = evaluator_of(world["roux"])
    listing = logged_in_client(evaluator).get(reverse("evaluations:pix_imports"))
    assert world["roux"].read().reference in listing.text and "Petit" not in listing.text  # only their dossiers
    assert logged_in_client(evaluator_of(world["petit"])).post(apply_url).status_code == 404
    assert logged_in_client(evaluator).get(reverse("evaluations:pix_import", args=[pix_import.pk])).status_code == 404
    assert logged_in_client(evaluator).post(apply_url).status_code == 302
    roux_row.refresh_from_db()
    assert roux_row.status == PixRowStatus.APPLIED and roux_row.evaluation.evaluator_id == evaluator.user_id
    pix_import.refresh_from_db()
    assert pix_import.rows_applied == 1


def test_recording_never_overwrites_a_grid_being_filled_even_the_importers_own(world):
    from evaluations.services import evaluation_start

    by = evaluator_of(world["roux"])
    draft = evaluation_start(dossier=world["roux"].read(), by=by, started_on=timezone.localdate())
    pix_import = upload(world, line("1", "Paul", "Roux", "12/04/1985"))
    row = pix_import.rows.get()
    with pytest.raises(PixImportRefused, match="terminez ou abandonnez la grille en cours"):
        pix_row_apply(row=row, by=by)
    row.refresh_from_db()
    draft.refresh_from_db()
    assert row.status == PixRowStatus.MATCHED and "terminez ou abandonnez" in row.error
    assert draft.status == EvaluationStatus.DRAFT and draft.pix_row is None
    assert not draft.results.exclude(result=CriterionResultValue.NOT_ASSESSED).exists()


def test_recording_checks_the_dossier_again_under_its_lock_and_the_day_it_was_opened(world):
    from candidates.models import Dossier

    by = evaluator_of(world["roux"])
    pix_import = upload(
        world, line("1", "Paul", "Roux", "12/04/1985"), line("2", "Paul", "Roux", "12/04/1985", taken="01/01/2020")
    )
    early, later = pix_import.rows.order_by("-line_number")
    with pytest.raises(PixImportRefused, match="avant l'ouverture du dossier"):
        pix_row_apply(row=early, by=by)
    # Matched while opened, the dossier has moved on to its training since: no final evaluation is started.
    Dossier.objects.filter(pk=world["roux"].pk).update(state=DossierState.IN_TRAINING)
    with pytest.raises(PixImportRefused, match="n'attend plus son évaluation préalable"):
        pix_row_apply(row=later, by=by)
    assert not world["roux"].read().evaluations.exists()


def test_an_unclosed_quote_refuses_the_file_naming_its_line_and_keeps_it(world):
    content = pix_file(line("1", "Paul", "Roux", "12/04/1985"), line('"2', "Léa", "Martin", "15/03/1990"))
    content += ("x" * 140_000 + "\n").encode()  # beyond the csv module's cell limit
    with pytest.raises(pix_results.PixFileError, match="à partir de la ligne 3"):
        pix_results.parse(content)
    pix_import = pix_import_create(content=content, filename="casse.csv", by=evaluator_of(world["roux"]))
    assert pix_import.status == PixImportStatus.REFUSED and "guillemet non refermé" in pix_import.error
    assert pix_import.file.read() == content


def test_certifpro_resolves_an_organisations_line_only_within_that_organisation(world, make_member):
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN)
    row = upload(world, line("3", "Jean", "Petit", "01/01/1980")).rows.get()
    with pytest.raises(PixImportRefused):
        pix_row_resolve(row=row, by=certifpro, dossier=world["petit"].read())
    url = reverse("evaluations:pix_row_resolve", args=[row.pix_import_id, row.pk])
    assert world["petit"].read().reference not in logged_in_client(certifpro).get(url).text
    pix_row_resolve(row=row, by=certifpro, dossier=world["roux"].read())  # the import's own organisation


def test_recording_runs_in_batches_and_a_failed_run_leaves_the_import_to_ask_again(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from evaluations import services
    from outbox.models import SideEffect

    by = evaluator_of(world["roux"])
    pix_import = upload(world, line("1", "Paul", "Roux", "12/04/1985"), line("2", "Léa", "Martin", "15/03/1990"))
    pix_row_resolve(row=pix_import.rows.get(line_number=3), by=by, dossier=world["martin"].read())
    monkeypatch.setattr(services, "PIX_APPLY_BATCH", 1)

    def worker_killed(**kwargs):
        raise RuntimeError("SoftTimeLimitExceeded")

    with monkeypatch.context() as patch:
        patch.setattr(services, "pix_row_apply", worker_killed)
        with django_capture_on_commit_callbacks(execute=True):
            pix_import_apply(pix_import=pix_import, by=by)
    pix_import.refresh_from_db()
    assert pix_import.status == PixImportStatus.READ and pix_import.rows_applied == 0  # not stuck « applying »

    with django_capture_on_commit_callbacks(execute=False):
        pix_import_apply(pix_import=pix_import, by=by)
        with pytest.raises(PixImportRefused, match="déjà en cours"):  # a double click
            pix_import_apply(pix_import=pix_import, by=by)
    services.pix_import_apply_run(import_id=pix_import.pk, membership_id=by.pk)
    pix_import.refresh_from_db()
    assert (pix_import.status, pix_import.rows_applied) == (PixImportStatus.APPLYING, 1)  # counts follow each batch
    batch = SideEffect.objects.filter(kind="pix_import_apply", arguments__after=2).get()
    services.pix_import_apply_run(**batch.arguments)
    pix_import.refresh_from_db()
    assert (pix_import.status, pix_import.rows_applied) == (PixImportStatus.DONE, 2)


def test_retention_deletes_the_file_and_the_lines_of_no_dossier_and_keeps_the_dossiers_lines(
    world, django_capture_on_commit_callbacks
):
    from privacy.services import retention_apply

    pix_import = upload(world, line("1", "Paul", "Roux", "12/04/1985"), line("3", "Jean", "Petit", "01/01/1980"))
    name, storage = pix_import.file.name, pix_import.file.storage
    assert retention_apply(now=timezone.now() + datetime.timedelta(days=179))["pix_imports"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(now=timezone.now() + datetime.timedelta(days=181))["pix_imports"] == 1
    pix_import.refresh_from_db()
    assert not pix_import.file and not storage.exists(name)
    assert list(pix_import.rows.values_list("dossier_id", flat=True)) == [world["roux"].pk]
    url = reverse("evaluations:pix_import_file", args=[pix_import.pk])
    assert logged_in_client(evaluator_of(world["roux"])).get(url).status_code == 404


def test_the_persons_export_holds_the_pix_lines_of_their_dossier(world):
    from privacy.exports import person_data
    from privacy.selectors import PersonRecords, person_key

    upload(world, line("77", "Paul", "Roux", "12/04/1985"))
    candidate = world["roux"].read().candidate
    data = person_data(PersonRecords(key=person_key(candidate), candidates=[candidate]))
    (pix,) = data["fiches"][0]["dossiers"][0]["résultats Pix"]
    assert (pix["numéro de certification"], pix["niveaux par compétence"]["5.2"]) == ("77", 2)


def test_missing_trailing_cells_are_empty_and_duplicate_headers_refuse_the_file():
    short = line("1", "Paul", "Roux", "12/04/1985").rsplit(";", 1)[0]  # no certification day: its own error
    full = line("2", "Paul", "Roux", "12/04/1985")
    cut, whole = pix_results.parse(pix_file(short, full + ";;"))
    assert cut.errors == ["Date de passage manquante."] and not whole.errors
    doubled = pix_file().decode("utf-8-sig").replace("Lieu de naissance", "Nom").encode()
    with pytest.raises(pix_results.PixFileError, match="Colonnes en double dans l'en-tête : « Nom »"):
        pix_results.parse(doubled + full.encode())


def test_the_same_file_uploaded_again_is_warned_and_counts_read_in_the_singular(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = logged_in_client(evaluator_of(world["roux"]))
    content = pix_file(line("1", "Paul", "Roux", "12/04/1985"))
    first = client.post(reverse("evaluations:pix_imports"), {"file": SimpleUploadedFile("a.csv", content)}, follow=True)
    assert "déjà été importé" not in first.text and "<strong>1</strong> ligne lue" in first.text
    again = client.post(reverse("evaluations:pix_imports"), {"file": SimpleUploadedFile("b.csv", content)}, follow=True)
    assert "Ce fichier a déjà été importé le" in again.text and "« a.csv »" in again.text


def test_a_mapping_rule_names_a_domain_of_the_current_clea_numerique_referentiel(world):
    from django.core.exceptions import ValidationError

    from evaluations.models import PixMappingRule

    version = PixMappingVersion.objects.create(label="essai")
    PixMappingRule(version=version, competence="1.1", minimum_level=2, domain_code="2").full_clean()
    with pytest.raises(ValidationError, match="« 9 » n'est pas un domaine du référentiel CléA numérique"):
        PixMappingRule(version=version, competence="1.1", minimum_level=2, domain_code="9").full_clean()
