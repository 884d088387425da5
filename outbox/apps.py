from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outbox"
    verbose_name = _("Effets différés")

    def ready(self) -> None:
        from clea_platform.mail import email_send
        from outbox import registry

        # The body may carry personal data: it is blanked once the e-mail has left.
        registry.register("email", email_send, label=_("Courriel"), document=False, forget_arguments=True)
