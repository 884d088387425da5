import datetime
import hashlib
import uuid
from functools import partial
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from candidates.models import Candidate
from clea_platform.certifications import Certification
from clea_platform.pdf import render_pdf, resolve_static
from clea_platform.verification import ATTESTATION_CODE_LENGTH, VERIFICATION_ALPHABET
from evaluations.models import Attestation, EvaluationKind
from evaluations.services import attestation_generate, attestation_regenerate, evaluation_start
from organisations.models import Role
from referentiels.models import Criterion, Domain, Referentiel, SubDomain
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


# -- What the attestation says (issue 14) --------------------------------------------------------------------------


def flat(text: str) -> str:
    """The PDF's text with its line breaks and runs of spaces as single spaces: sentences wrap anywhere."""
    return " ".join(text.split())


def test_under_each_domain_not_validated_the_pdf_names_the_criteria_still_to_acquire(partially_validated):
    # PRIOR_WITH_GAPS: domain 1 validated; sub-domain 2.1 has 2.1.1 and 2.1.2, misses 2.1.3 and 2.1.4.
    text = flat(pdf_text(partially_validated.attestations.get()))
    acquired, _, to_acquire = text.partition("Ce qui reste à acquérir")
    assert "1. Communication en français" in acquired
    assert "2. Calcul" in to_acquire
    assert "Critère 2.1.3" in to_acquire and "Critère 2.1.4" in to_acquire
    assert "2 critères acquis sur 4, 3 requis" in to_acquire
    # Acquired criteria and validated domains are not listed as still to acquire.
    assert "Critère 2.1.1" not in text and "Critère 1.1.1" not in text
    assert "Communication en français" not in to_acquire


@pytest.mark.parametrize(
    ("civility", "expected"),
    [
        ("mme", "atteste que Madame Léa MARTIN, née le 12/04/1985 à Lille, a validé"),
        ("m", "atteste que Monsieur Léa MARTIN, né le 12/04/1985 à Lille, a validé"),
        ("", "atteste que Léa MARTIN (date de naissance : 12/04/1985, à Lille) a validé"),
    ],
)
def test_the_wording_agrees_with_the_civility_and_is_neutral_when_it_is_unknown(
    civility, expected, django_capture_on_commit_callbacks
):
    dossier = DossierFactory(state="prior_evaluation", first_name="Léa", last_name="Martin")
    Candidate.objects.filter(pk=dossier.candidate_id).update(civility=civility)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(dossier.evaluations.get(), dossier.team.evaluator, acquired=PRIOR_WITH_GAPS)
    text = flat(pdf_text(dossier.attestations.get()))
    assert expected in text
    assert "·e" not in text and "(e)" not in text


def test_the_pdf_prints_its_own_verification_code_and_link(partially_validated):
    attestation = partially_validated.attestations.get()
    code = attestation.verification_code
    assert len(code) == ATTESTATION_CODE_LENGTH and set(code) <= set(VERIFICATION_ALPHABET)
    text = pdf_text(attestation)
    assert f"Code de vérification : {code}" in flat(text)
    assert f"/verifier/{code}/" in text.replace("\n", "")


def test_each_attestation_has_its_own_code(partially_validated):
    codes = {new.verification_code for new in [Attestation(), Attestation(), Attestation()]}
    assert partially_validated.attestations.get().verification_code not in codes
    assert len(codes) == 3


def test_a_regenerated_attestation_keeps_its_code_and_says_the_same_with_the_earlier_file_kept(partially_validated):
    attestation = partially_validated.attestations.get()
    earlier = Path(attestation.file.path)
    regenerated = attestation_regenerate(
        document_id=attestation.pk, regeneration=str(uuid.uuid4()), by_id=None, reason="Coquille dans le nom"
    )
    assert regenerated.verification_code == attestation.verification_code
    assert Path(regenerated.file.path) != earlier and earlier.is_file()
    text = flat(pdf_text(regenerated))
    assert f"Code de vérification : {attestation.verification_code}" in text
    assert "Critère 2.1.3" in text


def long_referentiel(gaps: int) -> Referentiel:
    """A current CléA numérique référentiel: domain 1 (two criteria, both acquired in the test), then `gaps`
    criteria in domains 2 and up, none acquired: an attestation over several pages."""
    referentiel = Referentiel.objects.create(
        certification=Certification.CLEA_NUMERIQUE, version="longue", is_current=True, title="Référentiel long"
    )
    first = Domain.objects.create(referentiel=referentiel, code="1", title="Domaine acquis", position=1)
    sub = SubDomain.objects.create(domain=first, code="1.1", title="Sous-domaine acquis", threshold_percent=100)
    for i in (1, 2):
        Criterion.objects.create(subdomain=sub, code=f"1.1.{i}", title=f"Critère acquis {i}", position=i)
    for n in range(gaps):
        d, s, c = 2 + n // 20, 1 + n % 20 // 5, 1 + n % 5
        domain, _ = Domain.objects.get_or_create(
            referentiel=referentiel, code=str(d), defaults={"title": f"Domaine {d} à acquérir", "position": d}
        )
        sub, _ = SubDomain.objects.get_or_create(
            domain=domain,
            code=f"{d}.{s}",
            defaults={"title": f"Sous-domaine {d}.{s}", "threshold_percent": 75, "position": s},
        )
        Criterion.objects.create(
            subdomain=sub,
            code=f"{d}.{s}.{c}",
            title=f"Repérer et utiliser les informations utiles du document n° {n + 1}",
            position=c,
        )
    return referentiel


def test_a_long_attestation_keeps_its_last_paragraph_and_its_signature_on_one_page(
    django_capture_on_commit_callbacks,
):
    """80 criteria to acquire put the closing words at the foot of the third page: without `break-inside: avoid` on
    the closing block, the signature went alone to a fourth page (measured)."""
    long_referentiel(80)
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(
            state="partially_validated", certification=Certification.CLEA_NUMERIQUE, prior_acquired={"1.1.1", "1.1.2"}
        )
    pages = [flat(page.extract_text()) for page in PdfReader(dossier.attestations.get().file.path).pages]
    assert len(pages) >= 2
    assert "document n° 80" in " ".join(pages)  # every criterion to acquire is listed
    [last_paragraph] = [i for i, text in enumerate(pages) if "pour se présenter à l'évaluation finale" in text]
    [signature] = [i for i, text in enumerate(pages) if "Évaluation conduite par" in text]
    assert last_paragraph == signature == len(pages) - 1
