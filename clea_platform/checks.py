"""System checks of the platform.

A database stopped halfway through migrations that were squashed since (docs/architecture.md, "Les migrations").

Django then falls back on the replaced migrations, whose files are gone, and would find nothing to apply: the
tables of the missing ones would silently never be created. `migrate` runs the database checks first, so it stops
here with what to do instead."""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import DatabaseError

LAST_DETAILED = "0b05c49"


@register(Tags.database)
def squashed_migrations_fully_replaced(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for alias in databases or []:
        try:
            recorded = MigrationRecorder(connections[alias]).applied_migrations()
        except DatabaseError:  # no database yet: nothing recorded, nothing to check
            continue
        loader = MigrationLoader(None, ignore_no_migrations=True)
        for key, migration in loader.disk_migrations.items():
            if not migration.replaces or key in recorded or not apps.is_installed(migration.app_label):
                continue
            done = [name for name in migration.replaces if name in recorded]
            if done and len(done) < len(migration.replaces):
                missing = ", ".join(name for _, name in migration.replaces if (key[0], name) not in recorded)
                errors.append(
                    Error(
                        f"Database '{alias}' applied only part of the migrations that {key[0]}.{key[1]} replaces "
                        f"(missing: {missing}).",
                        hint=f"Migrate it first with the platform at commit {LAST_DETAILED}, the last one with the "
                        "detailed migrations, then with this version.",
                        id="clea_platform.E001",
                    )
                )
    return errors


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """SITE_URL starts every absolute link the platform writes: the certificates' QR codes and `verification_url`
    in the API, the e-mails. A loopback host there (the embedded mode's default, docker compose's) prints links
    that lead nowhere for an employer or an integrator: `check --deploy` says so."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
        return [
            Warning(
                f"SITE_URL ({settings.SITE_URL}) is a loopback address: certificates, e-mails and the API's "
                "verification_url would link to it.",
                hint="Set SITE_URL to the address the platform is served at, e.g. https://clea.example.fr.",
                id="clea_platform.W001",
            )
        ]
    return []


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
