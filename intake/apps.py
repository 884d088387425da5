from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    label = "intake"
    verbose_name = _("Demandes d'entretien d'information")

    def ready(self) -> None:
        from intake import receivers  # noqa: F401  (connects the receiver of scheduling's cancellations)
