from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = _("Évaluations")

    def ready(self) -> None:
        from evaluations import receivers  # noqa: F401  (connects the receivers of the steps below)
        from evaluations.models import Attestation
        from evaluations.services import attestation_generate, attestation_regenerate, pix_import_apply_run
        from outbox import registry

        registry.register("attestation", attestation_generate, label=_("Attestation de validation partielle"))
        registry.register(
            "pix_import_apply", pix_import_apply_run, label=_("Résultats Pix enregistrés"), document=False
        )
        registry.register_document(
            "attestation",
            Attestation,
            attestation_regenerate,
            label=_("Nouvelle version d'une attestation"),
            version_label=_("Nouvelle version de l'attestation %(document)s"),
        )
