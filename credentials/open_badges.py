"""The Open Badges 3.0 credential of a certificate (an AchievementCredential, typed OpenBadgeCredential), as the
JWT payload signed by `credentials.services` (spec sections named in tests/credentials/test_structure.py).

The holder is identified by an IdentityObject whose `identityHash` is the salted SHA-256 of the name printed on
the certificate (B.1.12), not the name in clear: the file is the holder's to copy into wallets and application
systems, where the platform could never erase it, whereas the name is already on the PDF and on the public
verification page the evidence points to. An employer checks the person in front of them by hashing the name
they know with the salt (§9.3), or simply opens `/verifier/`, which shows the name the platform holds.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import unicodedata
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from clea_platform.certifications import Certification
from credentials.signing import ISSUER_NAME, date_time_z, issuer_id, numeric_date
from credentials.status_list import list_number, status_list_url
from juries.services import verification_url

if TYPE_CHECKING:
    from juries.models import Certificate

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def achievement_url(certification: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("credentials:achievement", kwargs={"certification": certification})


def achievement(certification: str) -> dict[str, Any]:
    """The Achievement (B.1.1) of one of the three certifications, the same in every credential that awards it."""
    with translation.override("fr"):
        descriptions = {
            Certification.CLEA: _(
                "Certificat interprofessionnel des connaissances et des compétences professionnelles de base, "
                "reconnu dans toutes les branches professionnelles."
            ),
            Certification.CLEA_NUMERIQUE: _(
                "Certificat interprofessionnel des compétences numériques de base utiles au travail, reconnu dans "
                "toutes les branches professionnelles."
            ),
            Certification.CLEA_MANAGEMENT: _(
                "Certificat interprofessionnel des compétences de base de l'encadrement d'une équipe, reconnu dans "
                "toutes les branches professionnelles."
            ),
        }
        narrative = _(
            "La personne titulaire a démontré la maîtrise de tous les domaines du référentiel national de la "
            "certification, lors d'une évaluation menée par un organisme habilité. Un jury paritaire "
            "interprofessionnel a ensuite délivré la certification au vu de cette évaluation."
        )
        name = str(Certification(certification).label)
    return {
        "id": achievement_url(certification),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": name,
        "description": descriptions[Certification(certification)],
        "criteria": {"narrative": narrative},
        "inLanguage": "fr",
    }


def identity_hash(name: str, salt: str) -> str:
    """`sha256$` and the hex digest of the name (as printed, NFC) followed by the salt (B.1.12, §9.3)."""
    normalised = unicodedata.normalize("NFC", name)
    return "sha256$" + hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()


def subject_id(credential_id: uuid.UUID) -> str:
    """A pseudonymous identifier of the holder in this credential only (the `sub` claim must name one)."""
    return f"urn:uuid:{uuid.uuid5(credential_id, 'subject')}"


def credential_payload(
    certificate: Certificate, *, credential_id: uuid.UUID, status_index: int, issued_at: datetime.datetime
) -> dict[str, Any]:
    """The JWT payload: the credential's members at the top level, with `iss`, `jti`, `nbf` and `sub` (§8.2.4.1)."""
    issuer = issuer_id()
    credential_uri = f"urn:uuid:{credential_id}"
    subject = subject_id(credential_id)
    salt = secrets.token_hex(16)
    status_url = status_list_url(list_number(status_index))
    awarded = datetime.datetime.combine(certificate.awarded_on, datetime.time(), tzinfo=datetime.UTC)
    with translation.override("fr"):
        certification = str(Certification(certificate.certification).label)
        name = _("%(certification)s – certificat n° %(number)s") % {
            "certification": certification,
            "number": certificate.number,
        }
        evidence_name = _("Certificat n° %(number)s") % {"number": certificate.number}
        evidence_description = _(
            "Page publique de vérification du certificat : son titulaire, sa certification, sa date, et s'il est "
            "toujours valable."
        )
    return {
        "@context": CONTEXTS,
        "id": credential_uri,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": issuer, "type": ["Profile"], "name": ISSUER_NAME, "url": settings.SITE_URL},
        "validFrom": date_time_z(issued_at),
        "awardedDate": date_time_z(awarded),
        "credentialSubject": {
            "id": subject,
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": True,
                    "identityHash": identity_hash(certificate.holder_name, salt),
                    "salt": salt,
                }
            ],
            "licenseNumber": certificate.number,
            "achievement": achievement(certificate.certification),
        },
        "evidence": [
            {
                "id": verification_url(certificate),
                "type": ["Evidence"],
                "name": evidence_name,
                "description": evidence_description,
            }
        ],
        "credentialStatus": {
            "id": f"{status_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_url,
        },
        "iss": issuer,
        "jti": credential_uri,
        "nbf": numeric_date(issued_at.replace(microsecond=0)),
        "sub": subject,
    }


def status_list_payload(number: int, *, encoded_list: str, valid_from: datetime.datetime) -> dict[str, Any]:
    """The BitstringStatusListCredential of list `number` (Bitstring Status List v1.0 §2.2), as a JWT payload."""
    issuer = issuer_id()
    url = status_list_url(number)
    return {
        "@context": [CONTEXTS[0]],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": date_time_z(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
        "iss": issuer,
        "jti": url,
        "nbf": numeric_date(valid_from.replace(microsecond=0)),
    }
