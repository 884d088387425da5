import warnings

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "credentials"
    verbose_name = _("Certificats numériques")

    def ready(self) -> None:
        from joserfc.errors import SecurityWarning

        from credentials import receivers  # noqa: F401  (issues a credential with each certificate)

        # RFC 9864 deprecates "EdDSA" for the fully-specified "Ed25519"; Open Badges 3.0 verifiers and wallets read
        # "EdDSA" today, so the credentials keep it (credentials/signing.py) and joserfc's warning says nothing new.
        warnings.filterwarnings("ignore", message="EdDSA is deprecated via RFC 9864", category=SecurityWarning)
