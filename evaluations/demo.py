"""Demo rows of the Pix results import (issue 21), for `seed_demo`: the provisional mapping, two CléA numérique
dossiers of the northern evaluator waiting for their prior evaluation, and a results file already imported by its
evaluator: one line matched, one that names the person differently (to resolve on screen), one unreadable."""

from __future__ import annotations

import datetime

from django.utils import timezone

from candidates.models import Candidate, Civility, EducationLevel, Origin, RegistrationStatus
from candidates.services import dossier_create, dossier_open
from clea_platform.certifications import Certification
from evaluations.models import PixImport
from evaluations.services import pix_import_create, pix_mapping_load_provisional
from organisations.models import Membership, Organisation, Role

DEMO_PIX_PEOPLE = [
    ("Inès", "Benali", datetime.date(1994, 6, 2)),
    ("Marc", "Lefort-Vasseur", datetime.date(1979, 11, 23)),
]
DEMO_PIX_FILE = "resultats-pix-demo.csv"
HEADER = (
    "Numéro de certification;Prénom;Nom;Date de naissance;Lieu de naissance;Identifiant Externe;Statut;"
    "Nombre de Pix;1.1;1.2;1.3;2.1;2.2;2.3;2.4;3.1;3.2;3.3;3.4;4.1;4.2;4.3;5.1;5.2;"
    "Commentaire jury pour l’organisation;Session;Centre de certification;Date de passage de la certification"
)


def seed_pix(orgs: dict[str, Organisation]) -> int:
    """Idempotent: nothing is added once the demo file was imported."""
    pix_mapping_load_provisional()
    nord = orgs["nord"]
    if PixImport.objects.filter(organisation=nord, filename=DEMO_PIX_FILE).exists():
        return 0
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    evaluator = Membership.objects.get(user__email="evaluateur@evaluateur-nord.demo", role=Role.EVALUATOR)
    for first, last, birth in DEMO_PIX_PEOPLE:
        if Candidate.objects.filter(organisation=nord, first_name=first, last_name=last, birth_date=birth).exists():
            continue
        dossier = dossier_create(
            membership=counsellor,
            certification=Certification.CLEA_NUMERIQUE,
            candidate_data={
                "civility": Civility.MME if first == "Inès" else Civility.M,
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "birth_place": "Roubaix",
                "registration_status": RegistrationStatus.EMPLOYEE,
                "education_level": EducationLevel.LEVEL_3,
                "origin": Origin.OWN_INITIATIVE,
            },
        )
        dossier_open(
            dossier=dossier,
            by=counsellor,
            consent_text="La personne accepte l'ouverture de son dossier CléA numérique.",
        )
    # Taken the day the dossiers were opened (a certification before the opening is refused).
    taken = f"{timezone.localdate():%d/%m/%Y}"
    end = f";9001;Centre Pix Lille;{taken}"
    lines = [
        HEADER,
        f"21034567;Inès;BENALI;02/06/1994;Roubaix;;Validée;384;3;2;2;3;2;2;1;3;2;-;-;2;2;1;2;3;{end}",
        # Pix has the birth name only: the evaluator chooses the dossier the page suggests.
        f"21034568;Marc;LEFORT;23/11/1979;Lille;;Validée;262;2;1;0;2;2;1;-;2;-;-;-;1;1;-;1;2;{end}",
        f"21034569;Julie;Morel;1988;Lille;;Validée;198;1;1;1;1;1;1;-;1;-;-;-;1;1;-;1;1;{end}",
    ]
    content = ("\ufeff" + "\n".join(lines) + "\n").encode()
    pix_import_create(content=content, filename=DEMO_PIX_FILE, by=evaluator)
    return 1
