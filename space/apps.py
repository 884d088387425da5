from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpaceConfig(AppConfig):
    name = "space"
    verbose_name = _("Espace de la personne candidate")
    default_auto_field = "django.db.models.BigAutoField"
