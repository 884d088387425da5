"""A real HTTP receiver for the webhook tests: a tiny http.server on 127.0.0.1 in a thread, answering each POST with
the next status of its script (the last one repeated) and keeping what it received."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from organisations.models import Membership
from webhooks.models import EventType, WebhookSubscription
from webhooks.services import subscription_create


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int]
    received: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@contextmanager
def http_receiver(*statuses: int) -> Iterator[Receiver]:
    script = list(statuses or (200,))
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(Received(headers=dict(self.headers.items()), body=body))
            status = receiver.next_status()
            answer = b'{"ok": true}' if status < 300 else b"Service indisponible"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/clea", statuses=script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def subscribe(
    membership: Membership, url: str = "https://si.example.fr/hooks", event_types: list[str] | None = None
) -> tuple[WebhookSubscription, str]:
    return subscription_create(
        by=membership,
        name=f"SI de {membership.organisation.name}",
        url=url,
        event_types=event_types if event_types is not None else list(EventType.values),
    )
