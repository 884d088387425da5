from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from notifications import attachments, receivers  # receivers: connects the receivers of the events below
        from notifications.delivery import digest_send, notification_email_send
        from outbox import registry

        # Keyed on the notification (or on the user and the day): a second run finds `emailed_at` set and sends
        # nothing. The body is built from the rows when it runs, so the arguments hold only identifiers.
        registry.register(
            "notification_email", notification_email_send, label=_("Courriel de notification"), document=False
        )
        registry.register(
            "notification_digest", digest_send, label=_("Récapitulatif quotidien des notifications"), document=False
        )
        # Every appointment e-mail (booked, moved, cancelled, reminder) carries its .ics, built when it leaves.
        attachments.register("appointment_ics", receivers.appointment_ics_file)
