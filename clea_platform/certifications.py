from django.db import models
from django.utils.translation import gettext_lazy as _


class Certification(models.TextChoices):
    """The three certifications Certif'Pro delivers; every référentiel, habilitation and dossier names one."""

    CLEA = "clea", _("CléA")
    CLEA_NUMERIQUE = "clea_numerique", _("CléA numérique")
    CLEA_MANAGEMENT = "clea_management", _("CléA management")
