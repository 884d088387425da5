from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from outbox import registry
        from webhooks import receivers  # noqa: F401  (connects the receivers of the events below)
        from webhooks.services import SIDE_EFFECT_KIND, webhook_deliver

        # A receiver that is down for a while is waited for longer than a document's bug fix: its own limit.
        registry.register(
            SIDE_EFFECT_KIND,
            webhook_deliver,
            label=_("Webhook"),
            document=False,
            max_attempts_setting="WEBHOOK_MAX_ATTEMPTS",
        )
