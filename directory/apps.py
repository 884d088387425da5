from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "directory"
    label = "directory"
    verbose_name = _("Annuaire des évaluateurs")

    def ready(self) -> None:
        from directory.models import DirectorySheet
        from directory.services import directory_sheet_generate, directory_sheet_regenerate
        from outbox import registry

        registry.register("directory_sheet", directory_sheet_generate, label=_("Fiche annuaire"))
        registry.register_document(
            "directory_sheet",
            DirectorySheet,
            directory_sheet_regenerate,
            label=_("Nouvelle version d'une fiche annuaire"),
            version_label=_("Nouvelle version de la fiche annuaire %(document)s"),
        )
