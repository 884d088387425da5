from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = _("Formation")

    def ready(self) -> None:
        from training import receivers  # noqa: F401  (connects the receivers of the steps below)
