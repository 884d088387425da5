from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JuriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "juries"
    verbose_name = _("Jurys")

    def ready(self) -> None:
        from juries import receivers  # noqa: F401  (answers the evaluations' reopened domains)
        from juries.services import certificate_produce, minutes_generate
        from outbox import registry

        registry.register("certificate", certificate_produce, label=_("Certificat"))
        registry.register("minutes", minutes_generate, label=_("Procès-verbal de jury"))
