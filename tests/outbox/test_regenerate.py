"""Documents rendered again, the earlier version kept (issue 13): for each kind of produced document, a new file under
the same number and dates, the earlier file left where it was and recorded as a DocumentVersion with its SHA-256,
through the outbox; who may ask; what the screens show; what the orphan collector and the backup make of it."""

from __future__ import annotations

import datetime
import io
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from candidates.models import DossierEvent
from clea_platform.backup import document_fields
from clea_platform.changes import TracksChanges
from clea_platform.documents import missing_files, orphan_files_collect
from clea_platform.french import of_name
from directory.models import DirectorySheet
from directory.services import directory_sheet_generate
from evaluations.models import Attestation
from evaluations.services import attestation_generate
from funding.models import ClaimBatch, FeeEntry, FeeKind, Statement, quarter_of
from funding.references import funding_references_load
from funding.services import statement_generate
from juries.models import Certificate, DecisionKind, SessionMinutes
from juries.services import certificate_generate, certificate_lookup, decision_record, minutes_generate
from organisations.models import Membership, Organisation, Role
from outbox import registry
from outbox.models import DocumentVersion, SideEffect, SideEffectState
from outbox.services import DocumentNotProduced, document_regenerate
from tests.audit import audit_rows_for
from tests.clients import page_text
from tests.directory.support import make_sheet
from tests.documents import regenerated, sha256_of
from tests.factories import MembershipFactory, OrganisationFactory
from tests.funding.support import batch_with_lines
from tests.journey import DossierFactory
from tests.juries.factories import certified, close, deliberating, make_certifpro, make_jury
from tests.test_backup import on_postgresql, run_restore_check, take_backup
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
REASON = "Gabarit corrigé : l'adresse de Certif'Pro était fausse."


@dataclass
class Made:
    """A produced document, the organisation whose administrators may have it rendered again, and its dossier."""

    document: models.Model
    owner: Organisation
    dossier_id: int | None = None


def make_attestation() -> Made:
    evaluation = DossierFactory(state="partially_validated").evaluations.get()
    attestation = attestation_generate(evaluation_id=evaluation.pk)
    return Made(attestation, attestation.organisation, attestation.dossier_id)


def make_certificate() -> Made:
    _jury, _submission, certificate = certified()
    return Made(certificate, certificate.organisation, certificate.dossier_id)


def make_minutes() -> Made:
    jury = make_jury()
    deliberating(jury)
    close(jury)
    return Made(minutes_generate(session_id=jury.session.pk), jury.body)


def make_batch() -> Made:
    batch = batch_with_lines(count=2)
    return Made(batch, batch.organisation)


def make_statement() -> Made:
    funding_references_load()
    long_ago = timezone.localdate() - datetime.timedelta(days=200)
    organisation = DossierFactory(state="partially_validated", evaluated_on=long_ago).organisation
    year, quarter = quarter_of(FeeEntry.objects.get(organisation=organisation).occurred_on)
    return Made(statement_generate(organisation_id=organisation.pk, year=year, quarter=quarter), organisation)


def make_sheet_ready() -> Made:
    organisation = OrganisationFactory(france_travail=True)
    sheet = directory_sheet_generate(sheet_id=make_sheet(organisation).pk)
    return Made(sheet, organisation)


MAKERS: dict[str, Callable[[], Made]] = {
    "attestation": make_attestation,
    "certificate": make_certificate,
    "minutes": make_minutes,
    "batch": make_batch,
    "statement": make_statement,
    "directory_sheet": make_sheet_ready,
}
LABELS = {
    "attestation": "Nouvelle version de l'attestation {}",
    "certificate": "Nouvelle version du certificat {}",
    "minutes": "Nouvelle version du procès-verbal {}",
    "batch": "Nouvelle version du lot {}",
    "statement": "Nouvelle version du relevé {}",
    "directory_sheet": "Nouvelle version de la fiche annuaire {}",
}
MODELS = {
    "attestation": Attestation,
    "certificate": Certificate,
    "minutes": SessionMinutes,
    "batch": ClaimBatch,
    "statement": Statement,
    "directory_sheet": DirectorySheet,
}
FIELDS = {
    "batch": ("csv_file", "xlsx_file", "pdf_file"),
    "statement": ("pdf_file", "csv_file"),
}


@pytest.fixture(params=sorted(MAKERS))
def made(request) -> Made:
    made = MAKERS[request.param]()
    made.kind = request.param  # type: ignore[attr-defined]
    return made


def fields_of(kind: str) -> tuple[str, ...]:
    return FIELDS.get(kind, ("file",))


def sha256_name(field: str) -> str:
    return "sha256" if field == "file" else field.replace("_file", "_sha256")


def files_of(document: models.Model, kind: str) -> dict[str, tuple[str, str, bytes]]:
    """Each file of the document: (storage name, recorded SHA-256, content)."""
    document.refresh_from_db()
    found = {}
    for field in fields_of(kind):
        stored = getattr(document, field)
        found[field] = (stored.name, getattr(document, sha256_name(field)), Path(stored.path).read_bytes())
    return found


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def admin_of(organisation: Organisation) -> Membership:
    return MembershipFactory(organisation=organisation, role=Role.ORG_ADMIN)


def feed_rows(document: models.Model) -> list[models.Model]:
    """The document and the parents its change moves in the API's feed (clea_platform.changes), if it tracks any."""
    if not isinstance(document, TracksChanges):
        return []
    model = type(document)
    rows: list[models.Model] = [document] if any(f.name == "updated_at" for f in model._meta.concrete_fields) else []
    for path in document.feed_parents:
        parent = model._meta.get_field(path.split("__")[0]).related_model
        for name in path.split("__")[1:]:
            parent = parent._meta.get_field(name).related_model
        ids = model.objects.filter(pk=document.pk).values_list(path, flat=True)
        rows += list(parent._default_manager.filter(pk__in=ids))
    return rows


def regenerate(capture, document: models.Model, by: Membership, reason: str = REASON) -> SideEffect:
    """Ask, and let the outbox run the side effect once committed (in-process, as the embedded mode does)."""
    with capture(execute=True):
        side_effect = document_regenerate(document=document, by=by, reason=reason)
    side_effect.refresh_from_db()
    return side_effect


# -- Each kind of document ---------------------------------------------------------------------------------------


def test_every_document_kind_is_registered_with_its_files():
    assert {kind.name: kind.model for kind in registry.documents()} == MODELS
    assert {kind.name: kind.fields for kind in registry.documents()} == {kind: fields_of(kind) for kind in MODELS}
    for kind in registry.documents():
        assert registry.get(kind.side_effect_kind).queue == registry.get("certificate").queue  # the PDF queue


def test_a_new_version_points_the_document_at_a_new_file_and_keeps_the_earlier_one(
    made, django_capture_on_commit_callbacks
):
    kind, document = made.kind, made.document
    number = str(document)
    before = files_of(document, kind)
    certifpro = make_certifpro()
    tracked = feed_rows(document)
    for row in tracked:
        type(row)._default_manager.filter(pk=row.pk).update(updated_at=LONG_AGO)

    side_effect = regenerate(django_capture_on_commit_callbacks, document, certifpro)

    # A new file is a change the API's feed shows: the document and its parents moved (issue 20's review, item 2).
    assert [type(row)._default_manager.get(pk=row.pk).updated_at > LONG_AGO for row in tracked] == [True] * len(tracked)
    assert bool(tracked) == (kind in {"attestation", "certificate", "minutes", "batch"})

    assert side_effect.state == SideEffectState.DONE, side_effect.last_error
    assert side_effect.kind == f"{kind}_regenerate"
    assert side_effect.label == LABELS[kind].format(number)
    assert side_effect.organisation_id == made.owner.pk
    assert side_effect.requested_by == certifpro.user
    after = files_of(document, kind)
    assert str(document) == number
    versions = {version.field: version for version in DocumentVersion.objects.all()}
    assert set(versions) == set(fields_of(kind))
    for field, (earlier_name, earlier_sha256, earlier_content) in before.items():
        name, sha256, content = after[field]
        # A new file, whose SHA-256 is the one recorded...
        assert name != earlier_name
        assert sha256_of(Path(getattr(document, field).path)) == sha256
        # ...the earlier one where it was, unchanged, and named by its DocumentVersion with its SHA-256.
        version = versions[field]
        assert (version.file.name, version.sha256) == (earlier_name, earlier_sha256)
        assert Path(version.file.path).read_bytes() == earlier_content
        assert sha256_of(Path(version.file.path)) == earlier_sha256
        assert (version.organisation_id, version.replaced_by, version.reason) == (made.owner.pk, certifpro.user, REASON)
        assert version.content_type.model_class() is MODELS[kind] and version.object_id == document.pk
        if name.endswith(".pdf") and kind != "directory_sheet":
            # The same content rendered again: what the document said, under its number and dates.
            assert pdf_text(content) == pdf_text(earlier_content)
    assert len({version.regeneration for version in versions.values()}) == 1
    actions = list(audit_rows_for(document).values_list("action", "actor"))
    assert ("document.regenerate_request", certifpro.user_id) in actions
    assert ("document.regenerate", certifpro.user_id) in actions
    replaced = audit_rows_for(document).get(action="document.regenerate")
    assert replaced.details["reason"] == REASON
    assert replaced.details["files"] == {
        field: {"before": before[field][1], "after": after[field][1]} for field in fields_of(kind)
    }
    if made.dossier_id is not None:
        event = DossierEvent.objects.filter(dossier_id=made.dossier_id).order_by("-at", "-pk").first()
        assert event.note.startswith(LABELS[kind].format(number))
        assert "l'ancienne est conservée" in event.note and REASON in event.note and event.actor == certifpro.user


def test_a_second_new_version_keeps_both_earlier_ones(made, django_capture_on_commit_callbacks):
    kind, document = made.kind, made.document
    first = files_of(document, kind)
    certifpro = make_certifpro()
    regenerate(django_capture_on_commit_callbacks, document, certifpro, reason="Première correction")
    second = files_of(document, kind)
    regenerate(django_capture_on_commit_callbacks, document, certifpro, reason="Seconde correction")
    third = files_of(document, kind)
    for field in fields_of(kind):
        kept = DocumentVersion.objects.filter(field=field).order_by("replaced_at", "pk")
        assert [(v.file.name, v.sha256, v.reason) for v in kept] == [
            (first[field][0], first[field][1], "Première correction"),
            (second[field][0], second[field][1], "Seconde correction"),
        ]
        assert len({first[field][0], second[field][0], third[field][0]}) == 3
        assert all(Path(version.file.path).exists() for version in kept)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_the_new_version_from_the_pdf_queue(celery_worker):
    """With a broker (CI's Redis), a real worker consumes the message: the side effect is done on its queue."""
    _jury, _submission, certificate = certified()
    side_effect = document_regenerate(document=certificate, by=make_certifpro(), reason=REASON)  # autocommitted
    wait_until(lambda: SideEffect.objects.get(pk=side_effect.pk).state == SideEffectState.DONE, timeout=30)
    version = DocumentVersion.objects.get()
    certificate.refresh_from_db()
    assert certificate.file.name != version.file.name
    assert sha256_of(Path(certificate.file.path)) == certificate.sha256


def test_running_the_same_regeneration_twice_makes_one_version(made, django_capture_on_commit_callbacks):
    """A worker killed after its commit and before the outbox marked the effect done runs it again."""
    kind, document = made.kind, made.document
    with django_capture_on_commit_callbacks(execute=False):
        side_effect = document_regenerate(document=document, by=make_certifpro(), reason=REASON)
    handler = registry.get(side_effect.kind).handler
    handler(**side_effect.arguments)
    once = files_of(document, kind)
    handler(**side_effect.arguments)
    assert files_of(document, kind) == once
    assert DocumentVersion.objects.count() == len(fields_of(kind))
    assert audit_rows_for(document).filter(action="document.regenerate").count() == 1


# -- The certificate: same number and code, verified, no second fee -------------------------------------------


def test_a_certificate_keeps_its_number_and_code_verifies_and_owes_no_second_fee(
    django_capture_on_commit_callbacks, client
):
    funding_references_load()
    _jury, _submission, certificate = certified()
    number, code, awarded_on = certificate.number, certificate.verification_code, certificate.awarded_on
    fees = FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).count()
    assert fees == 1
    earlier = Path(certificate.file.path).read_bytes()

    regenerate(django_capture_on_commit_callbacks, certificate, make_certifpro())

    certificate.refresh_from_db()
    assert (certificate.number, certificate.verification_code, certificate.awarded_on) == (number, code, awarded_on)
    assert FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).count() == fees
    assert certificate_lookup(code) == certificate
    page = client.get(reverse("certificate_verify", args=[code]))
    assert page.status_code == 200 and number in page.content.decode()
    text = pdf_text(Path(certificate.file.path).read_bytes())
    assert number in text and code in text and f"{awarded_on:%d/%m/%Y}" in text
    assert text == pdf_text(earlier)


def test_a_template_fix_reaches_the_new_version_and_not_the_earlier_one(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    _jury, _submission, certificate = certified()
    original = (Path(settings.BASE_DIR) / "templates" / "documents" / "certificate.html").read_text()
    assert "Vérifier ce certificat" in original
    fixed = tmp_path / "documents" / "certificate.html"
    fixed.parent.mkdir()
    fixed.write_text(original.replace("Vérifier ce certificat", "Vérifiez ce certificat en ligne"))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    regenerate(django_capture_on_commit_callbacks, certificate, make_certifpro())

    certificate.refresh_from_db()
    version = DocumentVersion.objects.get()
    assert "Vérifiez ce certificat en ligne" in pdf_text(Path(certificate.file.path).read_bytes())
    assert "Vérifiez" not in pdf_text(Path(version.file.path).read_bytes())
    assert certificate.sha256 != version.sha256


# -- Who may ask, and what is refused ----------------------------------------------------------------------------


def test_the_owning_organisations_administrator_may_ask(made, django_capture_on_commit_callbacks):
    side_effect = regenerate(django_capture_on_commit_callbacks, made.document, admin_of(made.owner))
    assert side_effect.state == SideEffectState.DONE
    assert DocumentVersion.objects.filter(organisation=made.owner).count() == len(fields_of(made.kind))


def test_the_jury_bodys_administrator_may_not_ask_for_a_certificate_of_its_session(
    django_capture_on_commit_callbacks,
):
    """The certificate belongs to the dossier's evaluator organisation; the session's minutes to the jury body."""
    jury, _submission, certificate = certified()
    with pytest.raises(Certificate.DoesNotExist):
        document_regenerate(document=certificate, by=jury.admin, reason=REASON)
    with django_capture_on_commit_callbacks(execute=True):
        minutes = minutes_generate(session_id=jury.session.pk)
    assert regenerate(django_capture_on_commit_callbacks, minutes, jury.admin).state == SideEffectState.DONE


def test_a_certificate_without_its_pdf_yet_cannot_have_a_new_version():
    _jury, _submission, certificate = certified()
    # As the code before issue 13 could leave it: the row, without its PDF yet.
    Certificate.objects.filter(pk=certificate.pk).update(file="", sha256="")
    certificate.refresh_from_db()
    with pytest.raises(DocumentNotProduced, match="n'est pas encore produit"):
        document_regenerate(document=certificate, by=make_certifpro(), reason=REASON)
    assert not SideEffect.objects.filter(kind="certificate_regenerate").exists()


def test_a_sheet_or_a_batch_not_produced_yet_cannot_have_a_new_version():
    pending = make_sheet(OrganisationFactory(france_travail=True))
    batch = batch_with_lines(count=1)
    ClaimBatch.objects.filter(pk=batch.pk).update(status="failed", csv_file="", xlsx_file="", pdf_file="")
    batch.refresh_from_db()
    for document in (pending, batch):
        with pytest.raises(DocumentNotProduced):
            document_regenerate(document=document, by=make_certifpro(), reason=REASON)


def test_the_worker_refuses_a_document_that_lost_its_file_since_the_request(django_capture_on_commit_callbacks):
    _jury, _submission, certificate = certified()
    with django_capture_on_commit_callbacks(execute=False):
        side_effect = document_regenerate(document=certificate, by=make_certifpro(), reason=REASON)
    Certificate.objects.filter(pk=certificate.pk).update(file="", sha256="")
    with pytest.raises(DocumentNotProduced):
        registry.get(side_effect.kind).handler(**side_effect.arguments)
    assert not DocumentVersion.objects.exists()


def test_earlier_versions_are_append_only(made, django_capture_on_commit_callbacks):
    regenerate(django_capture_on_commit_callbacks, made.document, make_certifpro())
    version = DocumentVersion.objects.first()
    version.reason = "Autre motif"
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()
    with pytest.raises(PermissionError):
        DocumentVersion.objects.update(reason="Autre motif")
    with pytest.raises(PermissionError):
        DocumentVersion.objects.all().delete()


# -- The stored files: the orphan collector, the backup ------------------------------------------------------------


def _age_every_stored_file(root: str, minutes: int) -> None:
    moment = time.time() - minutes * 60
    for path in Path(root).rglob("*"):
        if path.is_file():
            os.utime(path, (moment, moment))


def test_the_orphan_collector_keeps_the_earlier_files_and_removes_a_stray_one(
    made, settings, django_capture_on_commit_callbacks
):
    regenerate(django_capture_on_commit_callbacks, made.document, make_certifpro())
    kept = [version.file.name for version in DocumentVersion.objects.all()]
    directory = Path(getattr(made.document, fields_of(made.kind)[0]).path).parent
    stray = directory / f"stray-{uuid.uuid4().hex}.pdf"
    stray.write_bytes(b"%PDF-1.7 left by a killed worker")
    _age_every_stored_file(settings.MEDIA_ROOT, minutes=24 * 60)

    removed = [orphan.name for orphan in orphan_files_collect()]

    assert removed == [str(stray.relative_to(settings.MEDIA_ROOT))]
    assert all((Path(settings.MEDIA_ROOT) / name).exists() for name in kept)
    assert missing_files() == []


def test_a_lost_earlier_file_is_reported_as_missing(django_capture_on_commit_callbacks):
    _jury, _submission, certificate = certified()
    regenerate(django_capture_on_commit_callbacks, certificate, make_certifpro())
    version = DocumentVersion.objects.get()
    Path(version.file.path).unlink()
    [missing] = missing_files()
    assert (missing.model, missing.pk, missing.field) == ("outbox.DocumentVersion", version.pk, "file")


def test_the_backup_checks_earlier_versions_against_their_sha256():
    found = {document.label: document for document in document_fields()}
    version = found["outbox.DocumentVersion.file"]
    assert (version.table, version.file_column, version.sha256_column) == ("outbox_documentversion", "file", "sha256")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_backup_with_earlier_versions_restores_and_a_damaged_earlier_file_is_reported(settings, tmp_path):
    _jury, _submission, certificate = certified()  # in a committed transaction: the minutes are produced too
    regenerated(certificate, reason="Gabarit corrigé")
    version = DocumentVersion.objects.get()
    assert Certificate.objects.get().file.name != version.file.name

    backup = take_backup(tmp_path / "backups")
    ok, report = run_restore_check(str(backup))
    assert ok, report
    # The certificate, its minutes, and the certificate's earlier file, each against its SHA-256.
    assert "outbox.DocumentVersion.file : 1" in report
    assert "Documents vérifiés : 3 ; écarts : 0" in report

    path = Path(settings.MEDIA_ROOT) / version.file.name
    path.write_bytes(path.read_bytes() + b"%")
    ok, report = run_restore_check()
    assert not ok
    assert f"outbox.DocumentVersion.file #{version.pk} ({version.file.name}) : empreinte différente" in report


# -- The command, for operators without the screens ------------------------------------------------------------


def test_the_command_asks_under_a_certifpro_administrators_account(django_capture_on_commit_callbacks):
    _jury, _submission, certificate = certified()
    certifpro = make_certifpro()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "document_regenerate",
            "certificate",
            certificate.number,
            reason="Fichier abîmé",
            user=certifpro.user.email.upper(),
            stdout=out,
        )
    assert f"Nouvelle version du certificat {certificate.number} : demandée" in out.getvalue()
    version = DocumentVersion.objects.get()
    assert (version.replaced_by, version.reason) == (certifpro.user, "Fichier abîmé")


def test_the_command_finds_a_sheet_by_its_id():
    sheet = make_sheet_ready().document
    call_command(
        "document_regenerate",
        "directory_sheet",
        str(sheet.pk),
        reason="Fichier abîmé",
        user=make_certifpro().user.email,
        stdout=io.StringIO(),
    )
    assert SideEffect.objects.get(kind="directory_sheet_regenerate").arguments["document_id"] == sheet.pk


def test_the_command_refuses_another_account_an_unknown_document_and_a_blank_reason():
    _jury, _submission, certificate = certified()
    admin = admin_of(certificate.organisation)
    with pytest.raises(CommandError, match="n'est pas un compte actif d'administration Certif'Pro"):
        call_command("document_regenerate", "certificate", certificate.number, reason="Motif", user=admin.user.email)
    certifpro = make_certifpro().user.email
    with pytest.raises(CommandError, match="Aucun document « certificate »"):
        call_command("document_regenerate", "certificate", "CLEA-1999-0000000", reason="Motif", user=certifpro)
    with pytest.raises(CommandError, match="Indiquez le motif"):
        call_command("document_regenerate", "certificate", certificate.number, reason=" ", user=certifpro)
    assert not SideEffect.objects.filter(kind="certificate_regenerate").exists()


# -- The screens -------------------------------------------------------------------------------------------------


def regenerate_url(kind: str, document: models.Model) -> str:
    return reverse("documents:regenerate", kwargs={"kind": kind, "pk": document.pk})


def test_certifpro_asks_from_the_session_page_and_finds_the_earlier_version_listed(
    client_for, django_capture_on_commit_callbacks
):
    jury, _submission, certificate = certified()
    certifpro = make_certifpro()
    client = client_for(certifpro)
    page = reverse("juries:session_detail", kwargs={"pk": jury.session.pk})
    earlier = Path(certificate.file.path).read_bytes()
    assert page_text(client.get(page)).count("Produire une nouvelle version") == 1  # the minutes are not produced

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            regenerate_url("certificate", certificate), {"reason": "Nom mal orthographié", "next": page}
        )
    assert (response.status_code, response.url) == (302, page)

    # Back on the page once the worker has run (here, as the request's transaction committed).
    text = page_text(client.get(page))
    assert "La nouvelle version sera produite dans un instant ; l'ancienne est conservée." in text
    version = DocumentVersion.objects.get()
    name = certifpro.user.get_full_name()
    assert "1 version précédente conservée" in text
    assert f"à la demande {of_name(name)}" in text and "motif : « Nom mal orthographié »" in text  # d'Anaïs
    download = client.get(reverse("documents:version_download", kwargs={"pk": version.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == earlier
    assert download["Content-Type"] == "application/pdf"
    stem = Path(version.file.name).stem
    assert f'filename="{stem}-remplace-le-' in download["Content-Disposition"]


def test_a_form_without_reason_is_refused_with_a_message(client_for):
    _jury, _submission, certificate = certified()
    client = client_for(make_certifpro())
    response = client.post(regenerate_url("certificate", certificate), {"reason": "  "}, follow=True)
    assert "Indiquez le motif de la nouvelle version" in page_text(response)
    assert not SideEffect.objects.filter(kind="certificate_regenerate").exists()


def test_a_document_not_produced_yet_is_refused_with_a_message(client_for):
    _jury, _submission, certificate = certified()
    Certificate.objects.filter(pk=certificate.pk).update(file="", sha256="")
    response = client_for(make_certifpro()).post(
        regenerate_url("certificate", certificate), {"reason": "Motif"}, follow=True
    )
    assert "Ce document n'est pas encore produit" in page_text(response)


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EVALUATOR])
def test_the_organisations_other_roles_neither_ask_nor_download_earlier_versions(role, client_for):
    _jury, _submission, certificate = certified()
    version = regenerated(certificate)
    client = client_for(MembershipFactory(organisation=certificate.organisation, role=role))
    assert client.post(regenerate_url("certificate", certificate), {"reason": "Motif"}).status_code == 403
    assert client.get(reverse("documents:version_download", kwargs={"pk": version.pk})).status_code == 403
    assert SideEffect.objects.filter(kind="certificate_regenerate").count() == 1  # regenerated()'s own


def test_an_unknown_kind_is_404_and_a_foreign_next_goes_home(client_for):
    _jury, _submission, certificate = certified()
    client = client_for(make_certifpro())
    assert client.post(regenerate_url("contract", certificate), {"reason": "Motif"}).status_code == 404
    response = client.post(
        regenerate_url("certificate", certificate), {"reason": "Motif", "next": "https://ailleurs.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_regenerate_form_is_a_post_only(client_for):
    _jury, _submission, certificate = certified()
    response = client_for(make_certifpro()).get(regenerate_url("certificate", certificate))
    assert response.status_code == 302 and response.url == reverse("outbox:side_effect_list")
    assert not DocumentVersion.objects.exists()


def test_the_dossier_page_shows_the_certificate_and_offers_a_new_version_to_the_operators_only(client_for):
    _jury, _submission, certificate = certified()
    attestation = attestation_generate(evaluation_id=certificate.dossier.evaluations.get().pk)
    regenerated(attestation, reason="Date erronée")
    page = reverse("journey:dossier_detail", kwargs={"pk": certificate.dossier_id})
    for membership, offered in [
        (make_certifpro(), 2),
        (admin_of(certificate.organisation), 2),
        (MembershipFactory(organisation=certificate.organisation, role=Role.COUNSELLOR), 0),
    ]:
        text = page_text(client_for(membership).get(page))
        assert f"Certificat {certificate.number}" in text
        assert reverse("juries:certificate_download", kwargs={"pk": certificate.pk}) in text
        assert text.count("Produire une nouvelle version") == offered, membership.role
        assert text.count("motif : « Date erronée »") == (1 if offered else 0), membership.role
        assert ("Nouvelle version de l'attestation" in text) is True  # the dossier's history tells everyone


def test_the_jury_bodys_administrator_is_offered_a_new_version_of_the_minutes_only(
    client_for, django_capture_on_commit_callbacks
):
    jury, _submission, _certificate = certified()
    minutes = minutes_generate(session_id=jury.session.pk)
    text = page_text(client_for(jury.admin).get(reverse("juries:session_detail", kwargs={"pk": jury.session.pk})))
    assert text.count("Produire une nouvelle version") == 1
    assert regenerate_url("minutes", minutes) in text


def test_the_batch_page_and_the_statement_list_offer_a_new_version_to_the_organisations_administrator(client_for):
    batch = make_batch().document
    regenerated(batch, reason="Gabarit du financeur")
    admin = admin_of(batch.organisation)
    text = page_text(client_for(admin).get(reverse("funding:batch_detail", kwargs={"pk": batch.pk})))
    assert regenerate_url("batch", batch) in text
    # One regeneration, its three earlier files.
    assert "1 version précédente conservée" in text
    for version in DocumentVersion.objects.all():
        assert reverse("documents:version_download", kwargs={"pk": version.pk}) in text
    # Listed as the page lists the batch's files.
    csv, xlsx, pdf = (DocumentVersion.objects.get(field=f"{ext}_file") for ext in ("csv", "xlsx", "pdf"))
    assert [version.extension for version in (csv, xlsx, pdf)] == ["CSV", "XLSX", "PDF"]
    links = [text.index(reverse("documents:version_download", kwargs={"pk": v.pk})) for v in (csv, xlsx, pdf)]
    assert links == sorted(links)

    statement = make_statement().document
    text = page_text(client_for(admin_of(statement.organisation)).get(reverse("funding:statement_list")))
    assert regenerate_url("statement", statement) in text


def test_the_sheet_page_offers_a_new_version_to_certifpro(client_for):
    sheet = make_sheet_ready().document
    page = reverse("directory:sheet_detail", kwargs={"pk": sheet.pk})
    assert regenerate_url("directory_sheet", sheet) in page_text(client_for(make_certifpro()).get(page))
    advisor = MembershipFactory(organisation=sheet.organisation, role=Role.FT_ADVISOR)
    assert "Produire une nouvelle version" not in page_text(client_for(advisor).get(page))


def test_the_session_page_costs_the_same_queries_with_more_certificates_and_versions(client_for):
    jury = make_jury()
    dossiers = [DossierFactory(state="ready_for_jury") for _ in range(3)]
    submissions = deliberating(jury, *dossiers)
    decisions = [decision_record(submission=s, by=jury.president, kind=DecisionKind.AWARDED) for s in submissions]
    close(jury)
    first, *others = [certificate_generate(decision_id=decision.pk) for decision in decisions]
    Certificate.objects.filter(pk__in=[c.pk for c in others]).update(file="", sha256="")  # not produced yet
    minutes = minutes_generate(session_id=jury.session.pk)
    regenerated(first)
    page = reverse("juries:session_detail", kwargs={"pk": jury.session.pk})
    for membership in (make_certifpro(), jury.admin):
        client = client_for(membership)
        client.get(page)
        with CaptureQueriesContext(connection) as few:
            client.get(page)
        Certificate.objects.filter(pk__in=[c.pk for c in others]).update(file=first.file.name, sha256=first.sha256)
        for certificate in others:
            regenerated(certificate)
        regenerated(minutes)
        with CaptureQueriesContext(connection) as more:
            text = page_text(client.get(page))
        assert len(more) == len(few), membership.role
        expected = 3 + 1 if membership.is_certifpro else 1  # the jury body's administrator: the minutes only
        assert text.count("Produire une nouvelle version") == expected
        Certificate.objects.filter(pk__in=[c.pk for c in others]).update(file="", sha256="")
