from typing import Any

from django.core.management.base import BaseCommand

from referentiels.models import Referentiel
from referentiels.referentiel_sources import SOURCES
from referentiels.services import read_thresholds, referentiel_load_csv


class Command(BaseCommand):
    help = "Charge les référentiels CléA, CléA numérique et CléA management livrés avec la plateforme. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for source in SOURCES:
            # Once Certif'Pro made another version current (in the admin), the shipped one must not take over.
            other_current = (
                Referentiel.objects.current()
                .filter(certification=source.certification)
                .exclude(version=source.version)
                .exists()
            )
            report = referentiel_load_csv(
                path=source.csv,
                certification=source.certification,
                version=source.version,
                title=source.title,
                is_provisional=source.is_provisional,
                thresholds=read_thresholds(source.thresholds) if source.thresholds else None,
                make_current=not other_current,
            )
            state = (
                "verrouillé (déjà utilisé), inchangé"
                if report.skipped_locked
                else ("créé" if report.created else "à jour")
            )
            self.stdout.write(f"{report.referentiel}: {report.criteria} critères, {state}")
