from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "funding"
    verbose_name = _("Financements")

    def ready(self) -> None:
        from funding import receivers  # noqa: F401  (connects the receivers of the steps below)
        from funding.models import ClaimBatch, Statement
        from funding.services import batch_generate, batch_regenerate, statement_produce, statement_regenerate
        from outbox import registry

        registry.register("batch", batch_generate, label=_("Lot de demandes de financement"))
        registry.register("statement", statement_produce, label=_("Relevé de redevances"))
        registry.register_document(
            "batch",
            ClaimBatch,
            batch_regenerate,
            label=_("Nouvelle version d'un lot de demandes de financement"),
            version_label=_("Nouvelle version du lot %(document)s"),
            fields=("csv_file", "xlsx_file", "pdf_file"),
        )
        registry.register_document(
            "statement",
            Statement,
            statement_regenerate,
            label=_("Nouvelle version d'un relevé de redevances"),
            version_label=_("Nouvelle version du relevé %(document)s"),
            fields=("pdf_file", "csv_file"),
        )
