from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scheduling"
    verbose_name = _("Affectations et rendez-vous")

    def ready(self) -> None:
        from scheduling import receivers  # noqa: F401  (connects the receivers of the steps below)
