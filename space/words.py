"""The candidate's words for their journey (issue 18): short sentences, in the first person, that a person with few
qualifications reads easily (tests/space/test_readability.py measures them).

The référentiel's titles are written for evaluators ("Utilisation des règles de base de calcul et du raisonnement
mathématique"). For CléA, whose 7 domains and 28 sub-domains are fixed by law, the space says them plainly; a title
not found here (CléA numérique, CléA management, a future version) is shown as the référentiel writes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from candidates.models import DossierState
from clea_platform.certifications import Certification

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = DossierState

# (certification, code) → plain words. Sub-domains say what I can do.
PLAIN_TITLES: dict[tuple[str, str], StrOrPromise] = {
    (Certification.CLEA, "1"): _("Parler, lire et écrire en français"),
    (Certification.CLEA, "1.1"): _("Écouter et comprendre"),
    (Certification.CLEA, "1.2"): _("Parler à l'oral"),
    (Certification.CLEA, "1.3"): _("Lire"),
    (Certification.CLEA, "1.4"): _("Écrire"),
    (Certification.CLEA, "1.5"): _("Dire ou décrire une chose"),
    (Certification.CLEA, "2"): _("Compter et calculer"),
    (Certification.CLEA, "2.1"): _("Lire et utiliser les nombres"),
    (Certification.CLEA, "2.2"): _("Faire un calcul pour régler un problème"),
    (Certification.CLEA, "2.3"): _("Les mesures, les heures et les quantités"),
    (Certification.CLEA, "2.4"): _("Me repérer dans un lieu ou sur un plan"),
    (Certification.CLEA, "2.5"): _("Dire comment j'ai fait un calcul"),
    (Certification.CLEA, "3"): _("Utiliser un ordinateur"),
    (Certification.CLEA, "3.1"): _("Les bases de l'ordinateur"),
    (Certification.CLEA, "3.2"): _("Taper un texte et ranger mes fichiers"),
    (Certification.CLEA, "3.3"): _("Chercher sur internet"),
    (Certification.CLEA, "3.4"): _("Envoyer et lire des mails"),
    (Certification.CLEA, "4"): _("Travailler en équipe"),
    (Certification.CLEA, "4.1"): _("Suivre les règles du groupe"),
    (Certification.CLEA, "4.2"): _("Faire un travail avec les autres"),
    (Certification.CLEA, "4.3"): _("Aider le groupe"),
    (Certification.CLEA, "4.4"): _("Parler avec les autres"),
    (Certification.CLEA, "5"): _("Travailler seul, avec un but"),
    (Certification.CLEA, "5.1"): _("Comprendre mon lieu de travail"),
    (Certification.CLEA, "5.2"): _("Faire ce que l'on m'a demandé"),
    (Certification.CLEA, "5.3"): _("Proposer des idées"),
    (Certification.CLEA, "6"): _("Apprendre toute ma vie"),
    (Certification.CLEA, "6.1"): _("Apprendre de ce que j'ai fait"),
    (Certification.CLEA, "6.2"): _("Garder l'envie d'apprendre"),
    (Certification.CLEA, "6.3"): _("Savoir comment j'apprends le mieux"),
    (Certification.CLEA, "7"): _("Les bons gestes et la sécurité"),
    (Certification.CLEA, "7.1"): _("Suivre les règles de sécurité et d'hygiène"),
    (Certification.CLEA, "7.2"): _("Avoir les bons gestes pour ne pas me blesser"),
    (Certification.CLEA, "7.3"): _("Faire les gestes de premiers secours"),
    (Certification.CLEA, "7.4"): _("Protéger la nature et faire des économies d'énergie"),
}


def plain_title(certification: str, code: str, title: str) -> str:
    return str(PLAIN_TITLES.get((certification, code), title))


@dataclass(frozen=True)
class Step:
    number: int
    title: StrOrPromise
    what: StrOrPromise


# The four steps of CléA (Certif'Pro): the interview, the prior evaluation, the training (with its final
# evaluation), the jury.
STEPS = (
    Step(1, _("L'entretien"), _("Je parle de mon projet. J'accepte d'ouvrir mon dossier.")),
    Step(2, _("Le bilan"), _("Je fais des exercices. On voit ce que je sais déjà faire.")),
    Step(3, _("La formation"), _("J'apprends ce qui me manque. Puis je refais un bilan.")),
    Step(4, _("Le jury"), _("Des personnes du monde du travail lisent mon dossier. Elles décident.")),
)

# The step each state of the dossier is at (none: the journey is over).
STEP_OF_STATE = {
    S.INFORMATION: 1,
    S.OPENED: 2,
    S.PRIOR_EVALUATION: 2,
    S.PARTIALLY_VALIDATED: 3,
    S.IN_TRAINING: 3,
    S.FINAL_EVALUATION: 3,
    S.READY_FOR_JURY: 4,
    S.SUBMITTED_TO_JURY: 4,
}

# Where I am now, in one or two short sentences.
WHERE_I_AM = {
    S.INFORMATION: _("J'ai eu mon entretien. Mon dossier n'est pas encore ouvert."),
    S.OPENED: _("Mon dossier est ouvert. J'attends mon bilan."),
    S.PRIOR_EVALUATION: _("Je fais mon bilan."),
    S.PARTIALLY_VALIDATED: _("J'ai fait mon bilan. Il me reste des choses à apprendre."),
    S.IN_TRAINING: _("Je suis en formation."),
    S.FINAL_EVALUATION: _("Je fais mon dernier bilan."),
    S.READY_FOR_JURY: _("J'ai tout acquis. Mon dossier va partir au jury."),
    S.SUBMITTED_TO_JURY: _("Mon dossier est au jury."),
    S.CERTIFIED: _("J'ai mon certificat CléA. Bravo !"),
    S.REFUSED: _("Le jury n'a pas donné le certificat. Mon dossier est fermé."),
    S.WITHDRAWN: _("Mon dossier est fermé. Je l'ai arrêté, ou on l'a arrêté pour moi."),
    S.EXPIRED: _("Mon dossier est fermé. Le délai de 5 ans est passé."),
}

# What happens next (who does it is said beside).
WHAT_COMES_NEXT = {
    S.INFORMATION: _("On ouvre mon dossier, si je suis d'accord."),
    S.OPENED: _("On me donne une date pour mon bilan."),
    S.PRIOR_EVALUATION: _("On me dit ce que je sais déjà faire."),
    S.PARTIALLY_VALIDATED: _("On prépare ma formation avec moi."),
    S.IN_TRAINING: _("Je suis ma formation. Puis je fais un dernier bilan."),
    S.FINAL_EVALUATION: _("On me dit ce que j'ai acquis."),
    S.READY_FOR_JURY: _("On envoie mon dossier au jury."),
    S.SUBMITTED_TO_JURY: _("Le jury décide. On me dit sa réponse."),
}

# Who does it: the dossier's counsellor, the evaluation team, the trainer, the jury.
COUNSELLOR, EVALUATORS, TRAINER, JURY = "counsellor", "evaluators", "trainer", "jury"
WHO_ACTS = {
    S.INFORMATION: COUNSELLOR,
    S.OPENED: EVALUATORS,
    S.PRIOR_EVALUATION: EVALUATORS,
    S.PARTIALLY_VALIDATED: COUNSELLOR,
    S.IN_TRAINING: TRAINER,
    S.FINAL_EVALUATION: EVALUATORS,
    S.READY_FOR_JURY: COUNSELLOR,
    S.SUBMITTED_TO_JURY: JURY,
}

STEP_STATUS = {
    "done": pgettext_lazy("step", "fait"),
    "current": pgettext_lazy("step", "en cours"),
    "todo": pgettext_lazy("step", "à venir"),
}
