from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.demo import seed_directory
from evaluations.demo import seed_pix
from funding.demo import seed_funding
from intake.demo import seed_intake
from journey.demo import seed_journey, seed_juries
from organisations.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    demo_accounts_with_two_factor,
    seed_foundation,
)
from referrals.demo import seed_referrals
from scheduling.demo import seed_scheduling

REFUSAL = (
    "Refusé : seed_demo crée un superutilisateur et des comptes dont le mot de passe est publié ; il ne "
    "tourne que dans la démo embarquée (`make run` : DEBUG actif, sans DATABASE_URL). Ici : {where}. Pour une "
    "démonstration sur cette base, relancez avec --force-demo.\n"
    "Refused: seed_demo creates a superuser and accounts whose password is published; it only runs in the embedded "
    "demo (DEBUG on, no DATABASE_URL). Run it again with --force-demo to seed a demo on this database anyway."
)


def demo_refusal_reason() -> str | None:
    """Why the demo may not be seeded here, or None in the embedded demo (`make run`: DEBUG on, SQLite)."""
    problems = []
    if not settings.DEBUG:
        problems.append("DEBUG est désactivé")
    if not settings.EMBEDDED:
        problems.append("DATABASE_URL est défini")
    return " et ".join(problems) or None


# Each app seeds its own demo (its demo.py); this command, in the top layer, runs them in the journey's order.
class Command(BaseCommand):
    help = (
        "Crée (ou remet en état) les organisations, comptes et données de démonstration. Idempotent. Refuse hors de "
        "la démo embarquée (DEBUG désactivé ou DATABASE_URL défini) sauf avec --force-demo."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force-demo",
            action="store_true",
            help="Crée les comptes de démonstration (mot de passe publié) même hors de la démo embarquée.",
        )
        parser.add_argument(
            "--without-communes",
            action="store_true",
            help="Ne charge pas les 35 000 communes (la moitié du temps) : la recherche par commune de l'annuaire "
            "reste vide. Pour les tests qui ne la lisent pas.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reason = demo_refusal_reason()
        if reason and not options["force_demo"]:
            raise CommandError(REFUSAL.format(where=reason))
        # The dossiers need the référentiels; loading them is idempotent.
        call_command("load_referentiels", verbosity=0, stdout=self.stdout)
        # The commune table, for the directory's place search.
        if not options["without_communes"]:
            call_command("load_communes", verbosity=0, stdout=self.stdout)
        # Tariffs first, so that the seeded evaluations and certificates record their fees as they happen.
        call_command("load_tariffs", verbosity=0, stdout=self.stdout)
        orgs = seed_foundation()
        # The referrals go to the directory's sites: seeded after them.
        listed = seed_directory(orgs) + seed_referrals(orgs)
        self.stdout.write(f"Annuaire : {listed} sites et orientations créés")
        created = seed_journey(orgs) + seed_juries(orgs) + seed_funding(orgs)
        self.stdout.write(f"Dossiers de démonstration créés : {created}")
        booked = seed_scheduling(orgs)
        self.stdout.write(f"Rendez-vous de démonstration pris : {booked}")
        # After the agendas: a proposed interview is an appointment, and the agendas are seeded only when empty.
        asked = seed_intake(orgs)
        self.stdout.write(f"Demandes d'entretien venues de l'annuaire : {asked}")
        self.stdout.write(f"Fichiers de résultats Pix importés : {seed_pix(orgs)}")
        # The statistics' facts follow the steps as they happen; a rebuild also reads what the seeding wrote
        # directly (by name: the indicators app sits beside journey, which does not import it).
        call_command("indicators_rebuild", verbosity=0, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        with_code = demo_accounts_with_two_factor()
        for account in ACCOUNTS:
            marker = " *" if account in with_code else ""
            self.stdout.write(f"  {account.email:38} {account.label}{marker}")
        self.stdout.write(
            f"* Double authentification : après le mot de passe, un code à 6 chiffres du secret TOTP partagé "
            f"{DEMO_TOTP_SECRET}\n"
            "  (à ajouter à une application d'authentification), ou donné par `.venv/bin/python manage.py demo_totp`\n"
            f"  ou `oathtool --totp -b {DEMO_TOTP_SECRET}`."
        )
