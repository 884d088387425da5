from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from clea_platform.errors import BusinessRefusal
from organisations.models import Role, User
from outbox import registry
from outbox.services import document_regenerate


# For the operators without the screens: the same service as the "Régénérer" button, under the account of a
# Certif'Pro administrator named by --user, who is then the one the audit log and the earlier version record.
class Command(BaseCommand):
    help = (
        "Demande une nouvelle version d'un document produit (certificat, attestation, procès-verbal, lot, relevé, "
        "fiche annuaire), produite par un worker ; l'ancienne est conservée. Demandée au "
        "nom d'un compte d'administration Certif'Pro (--user)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = [kind.name for kind in registry.documents()]
        parser.add_argument("kind", choices=kinds, help="nature du document")
        parser.add_argument("document", help="numéro du document (ou son identifiant ; une fiche annuaire n'a que lui)")
        parser.add_argument("--reason", required=True, help="motif de la nouvelle version (obligatoire)")
        parser.add_argument(
            "--user", required=True, help="adresse e-mail du compte d'administration Certif'Pro qui la demande"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = registry.document(options["kind"])
        user = User.objects.filter(email__iexact=options["user"].strip(), is_active=True).first()
        membership = user.active_memberships().filter(role=Role.CERTIFPRO_ADMIN).first() if user is not None else None
        if membership is None:
            raise CommandError(f"{options['user']} n'est pas un compte actif d'administration Certif'Pro.")
        document = self._document(kind.model, options["document"])
        if document is None:
            raise CommandError(f"Aucun document « {kind.name} » n'a le numéro ou l'identifiant {options['document']}.")
        try:
            side_effect = document_regenerate(document=document, by=membership, reason=options["reason"])
        except (BusinessRefusal, PermissionDenied) as exc:
            raise CommandError(str(exc) or "Refusé.") from exc
        self.stdout.write(
            f"{side_effect.label} : demandée (effet différé n° {side_effect.pk}) ; un worker la produit, "
            "l'ancienne version est conservée."
        )

    @staticmethod
    def _document(model: type[models.Model], wanted: str) -> models.Model | None:
        wanted = wanted.strip()
        documents = model._default_manager.all()
        if any(field.name == "number" for field in model._meta.get_fields()):
            found = documents.filter(number=wanted).first()
            if found is not None:
                return found
        return documents.filter(pk=int(wanted)).first() if wanted.isdigit() else None
