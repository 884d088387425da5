"""Files joined to a notification's e-mail, by name: a provider is registered in notifications' AppConfig.ready()
(`register("appointment_ics", receivers.appointment_ics_file)`: scheduling, below, never imports notifications),
its receiver names it in the Event's `attachments` ([{"provider": "appointment_ics", "arguments":
{"appointment_id": 7}}]), and the e-mail calls it when it is sent, so the file says what is true then and the row
holds only identifiers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


Provider = Callable[..., Attachment | None]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    if name in _providers and _providers[name] is not provider:
        raise ValueError(f"Attachment provider {name!r} is registered twice")
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def resolve(specs: list[dict[str, Any]]) -> list[Attachment]:
    """The files of an e-mail. An unknown provider raises: the side effect fails, visibly, and is retried once
    the app that provides it is installed. A provider returns None when its object is gone (nothing to join)."""
    files = []
    for spec in specs:
        try:
            provider = _providers[spec["provider"]]
        except KeyError:
            raise LookupError(f"No attachment provider {spec['provider']!r}: is its app installed?") from None
        attachment = provider(**spec.get("arguments", {}))
        if attachment is not None:
            files.append(attachment)
    return files
