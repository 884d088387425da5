from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JuriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "juries"
    verbose_name = _("Jurys")

    def ready(self) -> None:
        from juries import receivers  # noqa: F401  (answers the evaluations' reopened domains)
        from juries.models import Certificate, SessionMinutes
        from juries.services import certificate_produce, certificate_regenerate, minutes_generate, minutes_regenerate
        from outbox import registry

        # A session's close promises its minutes and up to hundreds of certificates at once: bulk, behind the
        # attestations evaluators wait for (outbox.registry.Kind.bulk).
        registry.register("certificate", certificate_produce, label=_("Certificat"), bulk=True)
        registry.register("minutes", minutes_generate, label=_("Procès-verbal de jury"), bulk=True)
        registry.register_document(
            "certificate",
            Certificate,
            certificate_regenerate,
            label=_("Nouvelle version d'un certificat"),
            version_label=_("Nouvelle version du certificat %(document)s"),
        )
        registry.register_document(
            "minutes",
            SessionMinutes,
            minutes_regenerate,
            label=_("Nouvelle version d'un procès-verbal"),
            version_label=_("Nouvelle version du procès-verbal %(document)s"),
        )
