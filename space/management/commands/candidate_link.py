"""Print a sign-in link to a candidate's space (support, and `make run`'s demo): single use, valid 30 minutes."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from candidates.models import Dossier, DossierState, LinkOrigin
from space.services import sign_in_link_create, sign_in_url

# The demo's candidate holding a certificate (journey.demo.JURY_CANDIDATES, certified by the closed session).
DEMO_CANDIDATE = ("Paul", "Roussel")


class Command(BaseCommand):
    help = "Affiche un lien de connexion à l'espace de la personne candidate d'un dossier (usage unique, 30 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("reference", nargs="?", help="Référence du dossier")
        parser.add_argument(
            "--demo", action="store_true", help="Le dossier certifié de la démo (Paul Roussel), pour `make run`."
        )

    def handle(self, *args, reference=None, demo=False, **options):
        if demo:
            first, last = DEMO_CANDIDATE
            dossier = (
                Dossier.objects.filter(
                    candidate__first_name=first, candidate__last_name=last, state=DossierState.CERTIFIED
                )
                .select_related("candidate")
                .first()
            )
            if dossier is None:
                raise CommandError("Pas de dossier certifié de démonstration : lancez d'abord `manage.py seed_demo`.")
        elif reference:
            dossier = Dossier.objects.filter(reference=reference).select_related("candidate").first()
            if dossier is None:
                raise CommandError(f"Aucun dossier de référence {reference!r}.")
        else:
            raise CommandError("Donnez la référence d'un dossier, ou --demo.")
        candidate = dossier.candidate
        if candidate.anonymised_at is not None:
            raise CommandError("La personne de ce dossier est anonymisée : elle n'a plus d'espace.")
        with transaction.atomic():
            _link, token = sign_in_link_create(candidate=candidate, origin=LinkOrigin.SUPPORT)
        self.stdout.write(sign_in_url(token))
