"""The flux to the Caisse des Dépôts ("accrochage certificateurs") and its processing report, as bytes.

`flux_render` is a pure function of a CdcFlux row and its declarations: no clock, no settings, no query beyond
them, so that rendering a stored flux again gives its bytes (and its SHA-256) back. Every rendered flux is
validated against funding/schemas/cdc_accrochage_1.0.0.xsd (written from the public structure of the flux, see
its header) before it is stored. The report's format is provisional (funding/schemas/cdc_compte_rendu_provisoire.xsd).
"""

from __future__ import annotations

import datetime
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import xmlschema
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]  # no stubs; three names used
from defusedxml import ElementTree as SafeET
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from funding.models import CdcDeclaration, CdcFlux

logger = logging.getLogger(__name__)

NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
REPORT_NS = "urn:clea-platform:cdc:compte-rendu:provisoire:1"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
FLUX_XSD = SCHEMAS / "cdc_accrochage_1.0.0.xsd"
REPORT_XSD = SCHEMAS / "cdc_compte_rendu_provisoire.xsd"
# Beyond this, a report is not read: a flux of 50,000 passages makes a report of about 6 MB.
REPORT_MAX_BYTES = 20 * 1024 * 1024


# What XML 1.0 cannot carry (control characters other than tab and line breaks, lone surrogates, U+FFFE/FFFF):
# ElementTree would write them and the document would not parse.
XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The schema's Identifiant and Texte types.
IDENTIFIER_RE = r"^[A-Za-z0-9_\-]{1,50}$"
TEXT_MAX_LENGTH = 150


def xml_clean(text: str) -> str:
    """`text` without the characters XML 1.0 forbids, its blanks collapsed: what a flux can say of a name."""
    return " ".join(XML_FORBIDDEN.sub(" ", text).split())


def first_names(text: str) -> list[str]:
    """The flux's prenom1, prenom2 and prenom3: the first names separated by spaces (a hyphenated one stays
    whole), the third and any further ones together in prenom3, the schema having no fourth."""
    names = text.split()
    return [*names[:2], " ".join(names[2:])] if len(names) > 2 else names


@cache
def flux_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(FLUX_XSD))


@cache
def report_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(REPORT_XSD))


def _sub(parent: ET.Element, name: str, text: str | None = None, *, nil: bool = False) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{name}")
    if nil:
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = text
    return element


def _passage(parent: ET.Element, declaration: CdcDeclaration) -> None:
    passage = _sub(parent, "passageCertification")
    _sub(passage, "idTechnique", declaration.technical_id)
    # A CléA certificate is awarded by a jury that admits the candidate: no score.
    _sub(passage, "obtentionCertification", "PAR_ADMISSION")
    _sub(passage, "donneeCertifiee", "true")
    _sub(passage, "dateDebutValidite", declaration.valid_from.isoformat())
    # No end for a certificate; a revoked one is declared again with the day it ended (provisional, see README).
    if declaration.valid_until is None:
        _sub(passage, "dateFinValidite", nil=True)
    else:
        _sub(passage, "dateFinValidite", declaration.valid_until.isoformat())
    _sub(passage, "presenceNiveauLangueEuro", "false")
    _sub(passage, "presenceNiveauNumeriqueEuro", "false")
    _sub(passage, "mentionValidee", nil=True)
    _sub(_sub(passage, "modalitesInscription"), "modaliteAcces", nil=True)
    holder = _sub(_sub(passage, "identificationTitulaire"), "titulaire")
    _sub(holder, "nomNaissance", declaration.birth_name)
    if declaration.usual_name and declaration.usual_name != declaration.birth_name:
        _sub(holder, "nomUsage", declaration.usual_name)
    else:
        _sub(holder, "nomUsage", nil=True)
    for number, name in enumerate(first_names(declaration.first_name), start=1):
        _sub(holder, f"prenom{number}", name)
    _sub(holder, "anneeNaissance", f"{declaration.birth_date:%Y}")
    _sub(holder, "moisNaissance", f"{declaration.birth_date:%m}")
    _sub(holder, "jourNaissance", f"{declaration.birth_date:%d}")
    _sub(holder, "sexe", declaration.sex)
    # Born abroad, the INSEE code is the country's (99xxx) and its last 3 digits are codePaysNaissance, as Pix's
    # public exporter writes them.
    _sub(_sub(_sub(holder, "codeCommuneNaissance"), "codeInseeNaissance"), "codeInsee", declaration.birth_insee_code)
    _sub(holder, "libelleCommuneNaissance", declaration.birth_place)
    if declaration.birth_insee_code.startswith("99"):
        _sub(holder, "codePaysNaissance", declaration.birth_insee_code[2:])


def flux_render(flux: CdcFlux, declarations: Sequence[CdcDeclaration]) -> bytes:
    """The flux's XML, UTF-8, indented: certifications in the order of their codes, passages in the order of their
    technical ids (known before the rows are saved: the flux is validated first)."""
    ET.register_namespace("cpf", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}flux")
    _sub(root, "idFlux", flux.flux_id)
    _sub(root, "horodatage", flux.generated_at.astimezone(datetime.UTC).isoformat(timespec="seconds"))
    emitter = _sub(root, "emetteur")
    _sub(emitter, "idClient", flux.client_id)
    certifier = _sub(_sub(emitter, "certificateurs"), "certificateur")
    _sub(certifier, "idClient", flux.client_id)
    _sub(certifier, "idContrat", flux.contract_id)
    certifications = _sub(certifier, "certifications")
    by_code: dict[str, list[CdcDeclaration]] = {}
    for declaration in sorted(declarations, key=lambda d: (d.technical_id, d.kind)):
        by_code.setdefault(declaration.certification_code, []).append(declaration)
    for code in sorted(by_code):
        certification = _sub(certifications, "certification")
        _sub(certification, "type", "RS")
        _sub(certification, "code", code)
        _sub(certification, "natureDeposant", "CERTIFICATEUR")
        passages = _sub(certification, "passageCertifications")
        for declaration in by_code[code]:
            _passage(passages, declaration)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def flux_errors(content: bytes, limit: int = 20) -> list[str]:
    """What the flux schema finds wrong in `content` (at most `limit`, each with its path); empty when valid."""
    errors = []
    try:
        for error in flux_schema().iter_errors(content.decode("utf-8")):
            errors.append(f"{error.path}: {error.reason}")
            if len(errors) >= limit:
                break
    except (ET.ParseError, xmlschema.XMLResourceError, UnicodeDecodeError) as exc:
        # Not even well-formed XML: an error like the others, never an exception out of the validation.
        return [f"XML: {exc}"]
    return errors


@dataclass(frozen=True)
class ReportLine:
    technical_id: str
    accepted: bool
    reason: str


@dataclass(frozen=True)
class Report:
    flux_id: str
    lines: list[ReportLine]


class ReportUnreadable(ValueError):
    """The file is not a report the platform can read; the message is French and says why."""


def report_parse(content: bytes) -> Report:
    """Read a processing report (provisional format). Raises ReportUnreadable with a French message."""
    if len(content) > REPORT_MAX_BYTES:
        raise ReportUnreadable(_("Le fichier dépasse 20 Mo : ce n'est pas un compte rendu de la Caisse des Dépôts."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportUnreadable(_("Le fichier n'est pas encodé en UTF-8.")) from exc
    try:
        # defusedxml: a file from outside may carry entity bombs or external entities.
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise ReportUnreadable(
            _("Le fichier contient une DTD ou des entités, refusées : ce n'est pas un compte rendu de la Caisse.")
        ) from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise ReportUnreadable(
            _("Le fichier n'est pas un XML bien formé (ligne %(line)s, colonne %(column)s).")
            % {"line": line, "column": column + 1}
        ) from exc
    if root.tag != f"{{{REPORT_NS}}}compteRendu":
        raise ReportUnreadable(
            _(
                "Le fichier n'est pas un compte rendu au format attendu : l'élément racine doit être "
                "« compteRendu » dans l'espace de noms %(ns)s."
            )
            % {"ns": REPORT_NS}
        )
    error = next(iter(report_schema().iter_errors(root)), None)
    if error is not None:
        # The validator's reason is English: logged; the user reads where the file is at fault.
        logger.info("CDC report refused by its schema: %s: %s", error.path, error.reason)
        raise ReportUnreadable(
            _("Le compte rendu ne respecte pas son format : élément %(path)s manquant ou invalide.")
            % {"path": error.path}
        )

    def value(element: ET.Element, name: str) -> str:
        found = element.find(f"{{{REPORT_NS}}}{name}")
        return (found.text or "").strip() if found is not None else ""

    lines = [
        ReportLine(value(p, "idTechnique"), value(p, "statut") == "ACCEPTE", value(p, "motif"))
        for p in root.iterfind(f"{{{REPORT_NS}}}passage")
    ]
    return Report(flux_id=value(root, "idFlux"), lines=lines)


def report_render(flux_id: str, lines: Iterable[tuple[str, bool, str]]) -> bytes:
    """A report in the provisional format: for the tests and the demo (what the Caisse would send back)."""
    root = ET.Element(f"{{{REPORT_NS}}}compteRendu")
    ET.SubElement(root, f"{{{REPORT_NS}}}idFlux").text = flux_id
    for technical_id, accepted, reason in lines:
        passage = ET.SubElement(root, f"{{{REPORT_NS}}}passage")
        ET.SubElement(passage, f"{{{REPORT_NS}}}idTechnique").text = technical_id
        ET.SubElement(passage, f"{{{REPORT_NS}}}statut").text = "ACCEPTE" if accepted else "REJETE"
        if reason:
            ET.SubElement(passage, f"{{{REPORT_NS}}}motif").text = reason
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True, default_namespace=REPORT_NS) + b"\n"
