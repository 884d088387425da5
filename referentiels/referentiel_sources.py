"""The référentiels shipped with the platform (see data/README.md)."""

from dataclasses import dataclass
from pathlib import Path

from clea_platform.certifications import Certification

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class ReferentielSource:
    certification: str
    version: str
    title: str
    csv: Path
    thresholds: Path | None = None
    is_provisional: bool = False


SOURCES = [
    ReferentielSource(
        Certification.CLEA,
        "2018",
        "Référentiel CléA (socle de connaissances et de compétences professionnelles)",
        DATA_DIR / "referentiel_clea.csv",
        DATA_DIR / "seuils_clea.csv",
    ),
    ReferentielSource(
        Certification.CLEA_NUMERIQUE,
        "provisoire-2026",
        "CléA numérique – jeu provisoire de démonstration",
        DATA_DIR / "referentiel_clea_numerique_provisoire.csv",
        is_provisional=True,
    ),
    ReferentielSource(
        Certification.CLEA_MANAGEMENT,
        "provisoire-2026",
        "CléA management – jeu provisoire de démonstration",
        DATA_DIR / "referentiel_clea_management_provisoire.csv",
        is_provisional=True,
    ),
]
