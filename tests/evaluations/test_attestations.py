import datetime
import hashlib
from functools import partial
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from clea_platform.pdf import render_pdf, resolve_static
from evaluations.models import Attestation, EvaluationKind
from evaluations.services import attestation_generate, evaluation_start
from organisations.models import Role
from tests.documents import another_worker_while_rendering, sha256_of
from tests.documents import stored_files as stored_under
from tests.evaluations.support import complete_training
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, evaluate
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def pdf_text(attestation: Attestation) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(attestation.file.path).pages)


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.fixture
def partially_validated(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return DossierFactory(state="partially_validated", first_name="Léa", last_name="Martin-Dupré")


def test_the_attestation_is_generated_once_a_prior_evaluation_with_gaps_is_committed(
    django_capture_on_commit_callbacks,
):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    with django_capture_on_commit_callbacks() as callbacks:
        evaluate(evaluation, dossier.team.evaluator, acquired=PRIOR_WITH_GAPS)
        assert not Attestation.objects.exists()
    for callback in callbacks:
        callback()
    attestation = Attestation.objects.get()
    assert (attestation.evaluation, attestation.dossier, attestation.version) == (evaluation, dossier, 1)
    assert attestation.organisation == dossier.organisation
    assert attestation.number == f"ATT-{dossier.reference}-1"


def test_no_attestation_when_everything_is_acquired(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="ready_for_jury")
    assert not Attestation.objects.filter(dossier=dossier).exists()


def test_generating_twice_keeps_one_attestation_and_one_file(partially_validated, settings):
    first = partially_validated.attestations.get()
    again = attestation_generate(evaluation_id=first.evaluation_id)
    assert again.pk == first.pk
    assert again.sha256 == first.sha256
    assert Attestation.objects.filter(dossier=partially_validated).count() == 1
    assert len(stored_files(settings)) == 1


def test_a_second_worker_that_loses_the_race_removes_only_its_own_file():
    """Its file is stored before its row, which the evaluation's unique attestation refuses: it deletes that file
    (the storage gave it a name of its own) and returns the first worker's attestation, whose file stays."""
    dossier = DossierFactory(state="partially_validated")  # the queued attestation task is never run here
    evaluation = dossier.evaluations.get()
    other = partial(attestation_generate, evaluation_id=evaluation.pk)
    with another_worker_while_rendering("documents/attestation.html", other) as winner:
        returned = attestation_generate(evaluation_id=evaluation.pk)
    [first] = winner
    assert returned == first == Attestation.objects.get()
    assert stored_under("attestations") == [Path(first.file.path)]
    assert sha256_of(first.file.path) == first.sha256


def test_a_final_evaluation_with_gaps_adds_version_2_and_keeps_version_1(
    partially_validated, django_capture_on_commit_callbacks
):
    dossier = partially_validated
    first = dossier.attestations.get()
    from training.services import training_plan_create

    training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=dossier.team.trainer,
        planned_hours=20,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    complete_training(dossier)
    dossier.refresh_from_db()
    final = evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(final, dossier.team.final_evaluator, acquired=set())

    assert list(dossier.attestations.order_by("version").values_list("version", "evaluation__kind")) == [
        (1, EvaluationKind.PRIOR),
        (2, EvaluationKind.FINAL),
    ]
    second = dossier.attestations.get(version=2)
    first.refresh_from_db()
    assert Path(first.file.path).is_file() and Path(second.file.path).is_file()
    assert first.file.name != second.file.name
    assert second.number == f"ATT-{dossier.reference}-2"


def test_the_pdf_names_the_candidate_the_dossier_and_the_validated_domains(partially_validated):
    attestation = partially_validated.attestations.get()
    text = pdf_text(attestation)
    assert "Léa" in text
    assert "MARTIN-DUPRÉ" in text
    assert partially_validated.reference in text
    assert "Communication en français" in text  # domain 1, validated
    assert attestation.number in text


def test_the_stored_fingerprint_is_the_files(partially_validated):
    attestation = partially_validated.attestations.get()
    assert hashlib.sha256(Path(attestation.file.path).read_bytes()).hexdigest() == attestation.sha256


@pytest.fixture
def test_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES_DIR]}]


@pytest.mark.parametrize(
    "src",
    ["http://example.com/x.png", "file:///etc/passwd", "/etc/passwd", "static:../../../etc/passwd"],
)
def test_a_pdf_template_may_load_nothing_but_the_static_files(test_templates, src):
    with pytest.raises(FatalURLFetchingError):
        render_pdf("tests_evaluations/pdf_with_asset.html", {"src": src})


def test_a_pdf_template_may_load_the_platforms_static_files(test_templates):
    assert render_pdf("tests_evaluations/pdf_with_asset.html", {"src": "static:css/documents.css"}).startswith(b"%PDF")


@pytest.mark.parametrize(
    "url", ["http://example.com/x.css", "static:../clea_platform/settings.py", "static:css/absent.css"]
)
def test_resolve_static_refuses_anything_else(url):
    with pytest.raises(ValueError):
        resolve_static(url)


def test_the_owner_organisation_downloads_the_attestation(partially_validated, client_for):
    attestation = partially_validated.attestations.get()
    response = client_for(partially_validated.team.counsellor).get(
        reverse("evaluations:attestation_download", args=[attestation.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{attestation.filename}"'
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == attestation.sha256


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN])
def test_another_organisation_gets_404_on_download(partially_validated, org_a, make_member, client_for, role):
    attestation = partially_validated.attestations.get()
    response = client_for(make_member(org_a, role=role)).get(
        reverse("evaluations:attestation_download", args=[attestation.pk])
    )
    assert response.status_code == 404


def test_the_trainer_cannot_download_the_attestation(partially_validated, client_for):
    attestation = partially_validated.attestations.get()
    response = client_for(partially_validated.team.trainer).get(
        reverse("evaluations:attestation_download", args=[attestation.pk])
    )
    assert response.status_code == 404


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_produces_the_attestation_after_the_prior_evaluation_closes(celery_worker):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    evaluate(evaluation, dossier.team.evaluator, acquired=PRIOR_WITH_GAPS)
    wait_until(lambda: Attestation.objects.filter(evaluation=evaluation).exists(), timeout=60)
    attestation = Attestation.objects.get(evaluation=evaluation)
    assert hashlib.sha256(Path(attestation.file.path).read_bytes()).hexdigest() == attestation.sha256
