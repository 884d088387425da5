from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "directory"
    label = "directory"
    verbose_name = _("Annuaire des évaluateurs")

    def ready(self) -> None:
        from directory.services import directory_sheet_generate
        from outbox import registry

        registry.register("directory_sheet", directory_sheet_generate, label=_("Fiche annuaire"))
