from django.apps import AppConfig


class CleaPlatformConfig(AppConfig):
    name = "clea_platform"
    verbose_name = "CléA"

    def ready(self) -> None:
        from clea_platform import checks  # noqa: F401  (registers the checks)
