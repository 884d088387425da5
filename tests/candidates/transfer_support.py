"""A dossier moving from one organisation to another (issue 19): what the tests of the move share."""

from __future__ import annotations

from candidates.models import Dossier, DossierTransfer
from candidates.services import dossier_transfer
from organisations.models import Membership, Organisation
from tests.journey import Team, team_for

CONSENT = "J'accepte que mon dossier CléA soit suivi par le nouvel organisme."
REASON = "Déménagement"


def new_organisation() -> tuple[Organisation, Team]:
    """An evaluator organisation habilitated for every certification, with its team."""
    team = team_for()
    assert team.organisation is not None
    return team.organisation, team


def move(dossier: Dossier, to: Organisation, *, by: Membership | None, reason: str = REASON) -> DossierTransfer:
    return dossier_transfer(
        dossier=dossier, to_organisation=to, consent_text=CONSENT, consent_given=True, reason=reason, by=by
    )
