from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JuriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "juries"
    verbose_name = _("Jurys")

    def ready(self) -> None:
        from juries import receivers  # noqa: F401  (answers the evaluations' reopened domains)
