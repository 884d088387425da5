"""The subject-access export (art. 15 and 20 GDPR): everything the platform holds about a person, as a ZIP of a
JSON file (machine-readable), an HTML summary (what a person reads) and the document files (attestations,
certificate, funding proofs, earlier versions of those documents).

A read, with no side effect: Certif'Pro's screen (privacy.services.person_export) writes the audit row, and so does the
candidate's own space (issue 18: space.views, `person_data` as JSON and its summary as a PDF). Other people's data
stays out: the jury's minutes and the funding batches list other candidates, and the audit rows are given
without the staff member's name or address (the organisation that acted is given)."""

from __future__ import annotations

import datetime
import io
import json
import posixpath
import zipfile
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from candidates.models import Candidate, CorrectionRequest, Dossier
from credentials.models import IssuedCredential
from evaluations.models import Attestation, Evaluation
from funding.models import CdcDeclaration, FundingLine, FundingProof
from juries.models import Certificate, Decision, Submission
from organisations.models import AuditLog
from outbox.models import DocumentVersion
from privacy.selectors import PersonRecords
from referrals.models import Referral
from training.models import TrainingPlan

DATA_FILE = "donnees.json"
SUMMARY_FILE = "synthese.html"


class _Files:
    """The document files put in the archive, under `documents/`, each named once."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def add(self, stored: FieldFile | str, storage: Any, name: str) -> str | None:
        """Read the stored file into the archive as documents/`name`; the path in the archive, or None when
        there is no file (erased, never produced) or the storage lost it."""
        stored_name = stored if isinstance(stored, str) else stored.name
        if not stored_name:
            return None
        path = f"documents/{name}"
        stem, dot, extension = path.rpartition(".")
        n = 1
        while path in self.entries:
            n += 1
            path = f"{stem}-{n}{dot}{extension}"
        try:
            with storage.open(stored_name, "rb") as handle:
                self.entries[path] = handle.read()
        except FileNotFoundError:
            return None
        return path


def _when(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _euros(cents: int | None) -> str | None:
    return f"{Decimal(cents) / 100:.2f}" if cents is not None else None


def _choice(instance: models.Model, name: str) -> str:
    return str(getattr(instance, f"get_{name}_display")()) if getattr(instance, name) else ""


def _identity(candidate: Candidate) -> dict[str, Any]:
    return {
        "organisme évaluateur": candidate.organisation.name,
        "civilité": _choice(candidate, "civility"),
        "prénom": candidate.first_name,
        "nom d'usage": candidate.last_name,
        "nom de naissance": candidate.birth_name,
        "date de naissance": _day(candidate.birth_date),
        "lieu de naissance": candidate.birth_place,
        "naissance à l'étranger": candidate.born_abroad,
        "sexe (état civil)": _choice(candidate, "sex"),
        "code INSEE du lieu de naissance": candidate.birth_insee_code,
        "adresse e-mail": candidate.email,
        "téléphone": candidate.phone,
        "adresse": candidate.address,
        "code postal": candidate.postcode,
        "commune": candidate.city,
        "statut à l'inscription": _choice(candidate, "registration_status"),
        "niveau de formation": _choice(candidate, "education_level"),
        "origine de la démarche": _choice(candidate, "origin"),
        "enregistrée le": _when(candidate.created_at),
        "coordonnées effacées le": _when(candidate.contacts_erased_at),
    }


def _versions(document: models.Model, files: _Files) -> list[dict[str, Any]]:
    versions = DocumentVersion.objects.filter(
        content_type=ContentType.objects.get_for_model(document), object_id=document.pk
    ).order_by("replaced_at", "pk")
    storage = DocumentVersion._meta.get_field("file").storage
    return [
        {
            "remplacée le": _when(version.replaced_at),
            "motif": version.reason,
            "fichier": files.add(
                version.file.name or "", storage, f"versions-anterieures/{posixpath.basename(version.file.name or '')}"
            ),
        }
        for version in versions
    ]


def _evaluation(evaluation: Evaluation) -> dict[str, Any]:
    results = evaluation.results.select_related("criterion").order_by("criterion__code")
    return {
        "type": evaluation.get_kind_display(),
        "statut": evaluation.get_status_display(),
        "menée par": evaluation.evaluator.get_full_name(),
        "début": _day(evaluation.started_on),
        "fin": _day(evaluation.ended_on),
        "durée (heures)": str(evaluation.duration_hours) if evaluation.duration_hours is not None else None,
        "modalité": evaluation.get_modality_display(),
        "contexte professionnel": evaluation.context,
        "clôturée le": _when(evaluation.closed_at),
        "résultat": evaluation.outcome,
        "critères": [
            {
                "critère": result.criterion.code,
                "intitulé": result.criterion.title,
                "résultat": result.get_result_display(),
                "commentaire": result.comment,
            }
            for result in results
        ],
    }


def _attestation(attestation: Attestation, files: _Files) -> dict[str, Any]:
    return {
        "numéro": attestation.number,
        "code de vérification": attestation.verification_code,
        "version": attestation.version,
        "générée le": _when(attestation.generated_at),
        "empreinte SHA-256": attestation.sha256,
        "fichier": files.add(attestation.file, attestation.file.storage, f"attestations/{attestation.filename}")
        if attestation.file
        else None,
        "versions antérieures": _versions(attestation, files),
    }


def _training(plan: TrainingPlan) -> dict[str, Any]:
    return {
        "cycle": plan.cycle,
        "organisme de formation": plan.organisation.name,
        "formation assurée par": plan.trainer.get_full_name(),
        "objectifs pédagogiques": plan.objectives,
        "critères visés": sorted(plan.target_criteria.values_list("code", flat=True)),
        "durée prévue (heures)": str(plan.planned_hours),
        "début": _day(plan.starts_on),
        "fin prévue": _day(plan.ends_on),
        "terminée le": _when(plan.completed_at),
        "motif des heures non réalisées": plan.shortfall_reason,
        "séances": [
            {
                "date": _day(session.date),
                "durée (heures)": str(session.duration_hours),
                "contenu": session.topic,
                "réalisée": session.done,
            }
            for session in plan.sessions.order_by("date", "pk")
        ],
        "notes de progression": [
            {"date": _when(note.at), "note": note.text} for note in plan.notes.order_by("at", "pk")
        ],
    }


def _jury(submission: Submission) -> dict[str, Any]:
    session = submission.session
    decision: Decision | None = submission.recorded_decision
    return {
        "session": _day(session.day),
        "région": session.get_region_display(),
        "organisateur": session.organisation.name,
        "soumis le": _when(submission.submitted_at),
        "décision": decision.get_kind_display() if decision else None,
        "motivation": decision.reason if decision else "",
        "domaines à acquérir": decision.missing_domains if decision else [],
        "décidée le": _when(decision.decided_at) if decision else None,
        "révoquée le": _when(decision.revoked_at) if decision else None,
        "motif de la révocation": decision.revocation_reason if decision else "",
    }


def _certificate(certificate: Certificate, files: _Files) -> dict[str, Any]:
    return {
        "numéro national": certificate.number,
        "code de vérification": certificate.verification_code,
        "titulaire": certificate.holder_name,
        "certification": certificate.get_certification_display(),
        "délivré le": _day(certificate.awarded_on),
        "révoqué le": _when(certificate.revoked_at),
        "motif de la révocation": certificate.revocation_reason,
        "fichier": files.add(certificate.file, certificate.file.storage, certificate.filename)
        if certificate.file
        else None,
        "versions antérieures": _versions(certificate, files),
        "certificat numérique": _credential(certificate),
        "déclarations à la Caisse des Dépôts": _cdc_declarations(certificate),
    }


def _cdc_declarations(certificate: Certificate) -> list[dict[str, Any]]:
    """What Certif'Pro declared of the holder to the Caisse des Dépôts, flux by flux, and the Caisse's answer: the
    identity as it was sent (a snapshot, see funding.CdcDeclaration)."""
    return [
        {
            "flux": declaration.flux.flux_id,
            "produit le": _when(declaration.flux.generated_at),
            "nature": declaration.get_kind_display(),
            "nom de naissance": declaration.birth_name,
            "nom d'usage": declaration.usual_name,
            "prénom": declaration.first_name,
            "date de naissance": _day(declaration.birth_date),
            "sexe": declaration.sex,
            "code INSEE du lieu de naissance": declaration.birth_insee_code,
            "lieu de naissance": declaration.birth_place,
            "statut": declaration.get_status_display(),
            "motif du rejet": declaration.rejection_reason,
        }
        for declaration in CdcDeclaration.objects.filter(certificate=certificate).select_related("flux").order_by("id")
    ]


def _credential(certificate: Certificate) -> dict[str, Any] | None:
    """The Open Badges credential issued with the certificate, as the holder downloads it (README, « Attestation
    numérique »): its signed text holds the certificate's number and a salted hash of the name, nothing else."""
    credential = IssuedCredential.objects.filter(certificate=certificate).first()
    if credential is None:
        return None
    return {
        "identifiant": str(credential),
        "émise le": _when(credential.issued_at),
        "certificat signé (JWT)": credential.token,
    }


def _funding(line: FundingLine, files: _Files) -> dict[str, Any]:
    proofs = FundingProof.objects.filter(line=line).order_by("uploaded_at", "pk")
    return {
        "étape financée": line.get_step_display(),
        "financeur": line.funder.name,
        "statut": line.get_state_display(),
        "heures": str(line.hours) if line.hours is not None else None,
        "montant demandé TTC (euros)": _euros(line.requested_incl_vat_cents),
        "montant accordé TTC (euros)": _euros(line.granted_incl_vat_cents),
        "montant facturé TTC (euros)": _euros(line.invoiced_incl_vat_cents),
        "montant payé (euros)": _euros(line.paid_cents),
        "référence du financeur": line.funder_reference,
        "accordé le": _day(line.granted_on),
        "facturé le": _day(line.invoiced_on),
        "payé le": _day(line.paid_on),
        "commentaire": line.note,
        "justificatifs": [
            {
                "intitulé": proof.label,
                "nom du fichier": proof.original_name,
                "déposé le": _when(proof.uploaded_at),
                "fichier": files.add(proof.file, proof.file.storage, f"justificatifs/{proof.pk}-{proof.original_name}")
                if proof.file
                else None,
            }
            for proof in proofs
        ],
    }


def _dossier(dossier: Dossier, files: _Files) -> dict[str, Any]:
    events = dossier.events.order_by("at", "pk")
    evaluations = dossier.evaluations.select_related("evaluator").order_by("started_on", "pk")
    attestations = dossier.attestations.order_by("version", "pk")
    plans = dossier.training_plans.select_related("organisation", "trainer").order_by("cycle")
    submissions = dossier.submissions.select_related("session__organisation", "decision").order_by("submitted_at")
    lines = dossier.funding_lines.select_related("funder").order_by("created_at", "pk")
    certificate = Certificate.objects.filter(dossier=dossier).first()
    return {
        "référence": dossier.reference,
        "certification": dossier.get_certification_display(),
        "étape": dossier.get_state_display(),
        "organisme évaluateur": dossier.organisation.name,
        "suivi par": dossier.counsellor.get_full_name(),
        "créé le": _when(dossier.created_at),
        "consentement recueilli le": _when(dossier.consent_at),
        "texte présenté à la personne": dossier.consent_text,
        "date de l'évaluation préalable": _day(dossier.window_starts_on),
        "échéance des 5 ans": _day(dossier.deadline),
        "motif d'abandon": dossier.withdrawal_reason,
        "notes d'entretien": [
            {"date": _when(note.at), "écrite par": note.author.get_full_name(), "note": note.text}
            for note in dossier.notes.select_related("author").order_by("at", "pk")
        ],
        "historique": [
            {
                "date": _when(event.at),
                "étape de départ": event.get_from_state_display() if event.from_state else "",
                "étape d'arrivée": event.get_to_state_display() if event.to_state else "",
                "note": event.note,
            }
            for event in events
        ],
        "évaluations": [_evaluation(evaluation) for evaluation in evaluations],
        "attestations de validation partielle": [_attestation(a, files) for a in attestations],
        "parcours de formation": [_training(plan) for plan in plans],
        "jurys": [_jury(submission) for submission in submissions],
        "certificat": _certificate(certificate, files) if certificate is not None else None,
        "financements": [_funding(line, files) for line in lines],
        "résultats Pix": [
            {
                "fichier": row.pix_import.filename,
                "ligne": row.line_number,
                "numéro de certification": row.certification_number,
                "prénom": row.first_name,
                "nom": row.last_name,
                "date de naissance": _day(row.birth_date),
                "lieu de naissance": row.birth_place,
                "identifiant externe": row.external_id,
                "statut Pix": row.pix_status,
                "nombre de Pix": row.pix_score,
                "date de passage": _day(row.taken_on),
                "niveaux par compétence": row.levels,
                "statut": row.get_status_display(),
            }
            for row in dossier.pix_rows.select_related("pix_import").order_by("pk")
        ],
    }


def _referral(referral: Referral) -> dict[str, Any]:
    return {
        "agence France Travail": referral.from_organisation.name,
        "conseil France Travail": referral.advisor.get_full_name(),
        "organisme évaluateur": referral.organisation.name,
        "site": referral.site.name,
        "certification visée": referral.get_certification_display(),
        "civilité": _choice(referral, "civility"),
        "prénom": referral.first_name,
        "nom d'usage": referral.last_name,
        "date de naissance": _day(referral.birth_date),
        "lieu de naissance": referral.birth_place,
        "adresse e-mail": referral.email,
        "téléphone": referral.phone,
        "code postal": referral.postcode,
        "commune": referral.city,
        "niveau de formation": _choice(referral, "education_level"),
        "note pour l'organisme": referral.note,
        "consentement recueilli le": _when(referral.consent_at),
        "texte présenté à la personne": referral.consent_text,
        "état": referral.get_state_display(),
        "envoyée le": _when(referral.sent_at),
        "réponse le": _when(referral.answered_at),
        "motif du refus": referral.decline_reason,
        "dossier ouvert": referral.dossier.reference if referral.dossier else None,
    }


def _correction(correction: CorrectionRequest) -> dict[str, Any]:
    return {
        "demandée le": _when(correction.created_at),
        "dossier": correction.dossier.reference if correction.dossier is not None else None,
        "demande": correction.message,
        "état": _choice(correction, "state"),
        "traitée le": _when(correction.answered_at),
        "réponse": correction.answer,
    }


def _audit_rows(records: PersonRecords, dossiers: list[Dossier], referrals: list[Referral]) -> list[dict[str, Any]]:
    """The audit rows about the person's records and what their dossiers hold, and the rows of Certif'Pro's own
    answers to them (exports, erasures), which name the records by id."""
    objects: dict[type[models.Model], set[int]] = {
        Candidate: {c.pk for c in records.candidates},
        Dossier: {d.pk for d in dossiers},
        Referral: {r.pk for r in referrals},
        Evaluation: set(Evaluation.objects.filter(dossier__in=dossiers).values_list("pk", flat=True)),
        Attestation: set(Attestation.objects.filter(dossier__in=dossiers).values_list("pk", flat=True)),
        TrainingPlan: set(TrainingPlan.objects.filter(dossier__in=dossiers).values_list("pk", flat=True)),
        Decision: set(Decision.objects.filter(submission__dossier__in=dossiers).values_list("pk", flat=True)),
        Certificate: set(Certificate.objects.filter(dossier__in=dossiers).values_list("pk", flat=True)),
        FundingLine: set(FundingLine.objects.filter(dossier__in=dossiers).values_list("pk", flat=True)),
        FundingProof: set(FundingProof.objects.filter(line__dossier__in=dossiers).values_list("pk", flat=True)),
        CorrectionRequest: set(
            CorrectionRequest.objects.filter(candidate__in=records.candidates).values_list("pk", flat=True)
        ),
    }
    which = models.Q(pk__in=[])
    for model, ids in objects.items():
        if ids:
            content_type = ContentType.objects.get_for_model(model)
            which |= models.Q(object_type=content_type, object_id__in=[str(pk) for pk in ids])
    rows = list(AuditLog.objects.filter(which).select_related("organisation", "object_type"))
    # Certif'Pro's answers name the records in their details (a JSON lookup SQLite cannot make): read in Python.
    mine = {"candidates": objects[Candidate], "referrals": objects[Referral]}
    for row in AuditLog.objects.filter(action__startswith="privacy.").select_related("organisation"):
        if any(set(row.details.get(name, [])) & ids for name, ids in mine.items()):
            rows.append(row)
    rows.sort(key=lambda row: (row.created_at, row.pk))
    return [
        {
            "date": _when(row.created_at),
            "action": row.action,
            "organisation": row.organisation.name if row.organisation else "",
            "objet": row.object_repr,
        }
        for row in rows
    ]


def person_data(records: PersonRecords, files: _Files | None = None) -> dict[str, Any]:
    """Everything about the person, in French words, dates in ISO 8601, amounts in euros."""
    files = files if files is not None else _Files()
    dossiers = list(
        Dossier.objects.filter(candidate__in=records.candidates)
        .select_related("organisation", "counsellor", "candidate")
        .order_by("created_at", "pk")
    )
    by_candidate: dict[int, list[Dossier]] = {}
    for dossier in dossiers:
        by_candidate.setdefault(dossier.candidate_id, []).append(dossier)
    referrals = [
        *Referral.objects.filter(dossier__in=dossiers)
        .select_related("organisation", "from_organisation", "site", "advisor", "dossier")
        .order_by("sent_at", "pk"),
        *records.referrals,
    ]
    return {
        "exporté le": _when(timezone.now()),
        "fiches": [
            {
                "identité": _identity(candidate),
                "dossiers": [_dossier(dossier, files) for dossier in by_candidate.get(candidate.pk, [])],
                "demandes de rectification": [
                    _correction(correction)
                    for correction in CorrectionRequest.objects.filter(candidate=candidate)
                    .select_related("dossier")
                    .order_by("created_at", "pk")
                ],
            }
            for candidate in records.candidates
        ],
        "orientations France Travail": [_referral(referral) for referral in referrals],
        "journal d'audit": _audit_rows(records, dossiers, referrals),
    }


def _html(value: Any) -> str:
    if isinstance(value, dict):
        items = "".join(f"<dt>{escape(key)}</dt><dd>{_html(item)}</dd>" for key, item in value.items())
        return f"<dl>{items}</dl>"
    if isinstance(value, list):
        if not value:
            return escape(_("aucun"))
        return "<ol>" + "".join(f"<li>{_html(item)}</li>" for item in value) + "</ol>"
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return escape(_("oui") if value else _("non"))
    text = escape(str(value))
    return f'<a href="{text}">{text}</a>' if isinstance(value, str) and value.startswith("documents/") else text


def summary_html(data: dict[str, Any]) -> str:
    title = escape(_("Vos données sur la plateforme CléA"))
    intro = escape(
        _(
            "Ce document reprend tout ce que la plateforme CléA conserve à votre sujet ; le fichier %(json)s contient "
            "les mêmes données dans un format lisible par une machine, et le dossier « documents » les documents "
            "produits pour vous."
        )
        % {"json": DATA_FILE}
    )
    return (
        f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><h1>{title}</h1><p>{intro}</p>{_html(data)}</body></html>\n"
    )


def person_archive(records: PersonRecords) -> tuple[bytes, int]:
    """The ZIP of the person's data: donnees.json, synthese.html and documents/…; with the number of files."""
    files = _Files()
    data = person_data(records, files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DATA_FILE, json.dumps(data, ensure_ascii=False, indent=2, default=str))
        archive.writestr(SUMMARY_FILE, summary_html(data))
        for path, content in files.entries.items():
            archive.writestr(path, content)
    return buffer.getvalue(), len(files.entries)
