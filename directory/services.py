"""The printable directory sheets: asked for by an agency, rendered to PDF by a worker."""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from clea_platform.certifications import Certification
from clea_platform.french import of_name
from clea_platform.pdf import render_pdf, sha256_hex
from directory.models import Commune, DirectorySheet, SheetScope, SheetStatus
from directory.selectors import RADII_KM, directory_sheet_entries
from organisations.models import Membership, User
from organisations.services import audit_record
from outbox.models import SideEffect
from outbox.services import DocumentNotProduced, document_replace, side_effect_add


class SheetRequestError(Exception):
    """The sheet cannot be asked for as given; the message says why, in French."""


def _params_key(
    *,
    scope: str,
    departement: str,
    commune_insee: str,
    radius_km: int | None,
    certification: str,
    wheelchair_accessible: bool,
    remote_evaluation: bool,
) -> str:
    place = f"dep:{departement}" if scope == SheetScope.DEPARTEMENT else f"commune:{commune_insee}:{radius_km}"
    return f"{place}|cert:{certification or 'all'}|pmr:{int(wheelchair_accessible)}|remote:{int(remote_evaluation)}"


@transaction.atomic
def directory_sheet_request(
    *,
    by: Membership,
    scope: str,
    departement: str = "",
    commune: Commune | None = None,
    radius_km: int | None = None,
    certification: str = "",
    wheelchair_accessible: bool = False,
    remote_evaluation: bool = False,
    request: HttpRequest | None = None,
) -> tuple[DirectorySheet, bool]:
    """Ask for the sheet of a territory; (sheet, created). The same parameters on the same day give the
    same sheet, whoever of the organisation asks. Queues its rendering once committed (again after a
    failure)."""
    if scope == SheetScope.DEPARTEMENT:
        names = Commune.objects.filter(departement=departement).values_list("departement_name", flat=True)[:1]
        if not departement or not names:
            raise SheetRequestError(_("Choisissez un département."))
        place_label = _("%(name)s (%(code)s)") % {"name": names[0], "code": departement}
        commune, radius_km = None, None
    elif scope == SheetScope.RADIUS:
        if commune is None:
            raise SheetRequestError(_("Choisissez la commune autour de laquelle chercher."))
        if radius_km not in RADII_KM:
            raise SheetRequestError(_("Choisissez un rayon de 10, 20, 50 ou 100 km."))
        place_label = _("à moins de %(radius)s km %(of_commune)s") % {
            "radius": radius_km,
            "of_commune": of_name(commune.label),
        }
        departement = ""
    else:
        raise SheetRequestError(_("Choisissez un territoire."))
    if certification and certification not in Certification.values:
        raise SheetRequestError(_("Certification inconnue."))
    commune_insee = commune.insee_code if commune else ""
    key = _params_key(
        scope=scope,
        departement=departement,
        commune_insee=commune_insee,
        radius_km=radius_km,
        certification=certification,
        wheelchair_accessible=wheelchair_accessible,
        remote_evaluation=remote_evaluation,
    )
    values = dict(
        requested_by=by.user,
        scope=scope,
        departement=departement,
        commune_insee=commune_insee,
        radius_km=radius_km,
        place_label=place_label,
        certification=certification,
        wheelchair_accessible=wheelchair_accessible,
        remote_evaluation=remote_evaluation,
    )
    today = timezone.localdate()
    try:
        with transaction.atomic():
            sheet, created = DirectorySheet.objects.get_or_create(
                organisation_id=by.organisation_id, requested_on=today, params_key=key, defaults=values
            )
    except IntegrityError:  # a colleague asked for the same sheet at the same instant
        sheet, created = (
            DirectorySheet.objects.get(organisation_id=by.organisation_id, requested_on=today, params_key=key),
            False,
        )
    if created or sheet.status == SheetStatus.FAILED:
        if sheet.status == SheetStatus.FAILED:
            sheet.status = SheetStatus.PENDING
            sheet.save(update_fields=["status"])
        audit_record(
            action="directory_sheet.request",
            actor=by.user,
            organisation=by.organisation_id,
            obj=sheet,
            request=request,
            details={"params": key},
        )
        directory_sheet_promise(sheet, again=not created, by=by.user)
    return sheet, created


def directory_sheet_promise(sheet: DirectorySheet, *, again: bool = False, by: User | None = None) -> SideEffect:
    """The rendering of a sheet, promised in the caller's transaction (the outbox); asking again after a failure
    is a new promise."""
    return side_effect_add(
        kind="directory_sheet",
        key=f"directory_sheet:{sheet.pk}" if not again else f"directory_sheet:{sheet.pk}:again:{uuid.uuid4()}",
        label=_("Fiche annuaire %(title)s") % {"title": sheet},
        organisation=sheet.organisation_id,
        arguments={"sheet_id": sheet.pk},
        requested_by=by,
    )


def directory_sheet_generate(*, sheet_id: int) -> DirectorySheet:
    """Render and store the sheet's PDF (and its SHA-256). Idempotent: a ready sheet is returned as is."""
    sheet = DirectorySheet.objects.select_related("organisation").get(pk=sheet_id)
    if sheet.status == SheetStatus.READY:
        return sheet
    try:
        pdf, site_count = _directory_sheet_pdf(sheet)
    except Exception:
        DirectorySheet.objects.filter(pk=sheet.pk, status=SheetStatus.PENDING).update(status=SheetStatus.FAILED)
        raise
    with transaction.atomic():
        locked = DirectorySheet.objects.select_for_update(of=("self",)).get(pk=sheet.pk)
        if locked.status == SheetStatus.READY:  # another worker finished first: keep theirs
            return locked
        locked.file.save(sheet.filename, ContentFile(pdf), save=False)
        locked.sha256 = sha256_hex(pdf)
        locked.site_count = site_count
        locked.status = SheetStatus.READY
        locked.generated_at = timezone.now()
        locked.save(update_fields=["file", "sha256", "site_count", "status", "generated_at"])
    return locked


def directory_sheet_regenerate(
    *, document_id: int, regeneration: str, by_id: int | None, reason: str
) -> DirectorySheet:
    """The outbox's "directory_sheet_regenerate" side effect (asked for by `outbox.services.document_regenerate`):
    a ready sheet rendered again, the earlier PDF kept as a DocumentVersion. Unlike the other documents, a sheet
    records no content of its own: it lists the directory as it is when rendered, and says so ("état de
    l'annuaire au ..."), so the new version lists the sites of now, under the new date and count. Idempotent on
    `regeneration`."""
    sheet = DirectorySheet.objects.select_related("organisation").get(pk=document_id)
    if sheet.status != SheetStatus.READY:
        raise DocumentNotProduced
    pdf, site_count = _directory_sheet_pdf(sheet)
    with transaction.atomic():
        sheet, _replaced = document_replace(
            document=sheet,
            files={"file": (sheet.filename, pdf)},
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
            changes={"site_count": site_count, "generated_at": timezone.now()},
        )
    return sheet


def _directory_sheet_pdf(sheet: DirectorySheet) -> tuple[bytes, int]:
    """The sheet's PDF, listing the directory as it is now, and how many sites it lists."""
    entries = directory_sheet_entries(sheet)
    pdf = render_pdf(
        "documents/directory_sheet.html",
        {
            "sheet": sheet,
            "entries": entries,
            "with_distance": sheet.scope == SheetScope.RADIUS,
            "certification_label": Certification(sheet.certification).label if sheet.certification else "",
            "generated_at": timezone.localtime(),
        },
    )
    return pdf, len(entries)
