from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "funding"
    verbose_name = _("Financements")

    def ready(self) -> None:
        from funding import receivers  # noqa: F401  (connects the receivers of the steps below)
        from funding.services import batch_generate, statement_produce
        from outbox import registry

        registry.register("batch", batch_generate, label=_("Lot de demandes de financement"))
        registry.register("statement", statement_produce, label=_("Relevé de redevances"))
