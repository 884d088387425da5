from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "funding"
    verbose_name = _("Financements")

    def ready(self) -> None:
        from funding import receivers  # noqa: F401  (connects the receivers of the steps below)
