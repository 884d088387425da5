"""A mail server of the test's own (issue 17's faults): minimal SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT) on a free port, one thread per connection, that counts what it accepted and can hold a message before it
answers its DATA.

A held message has reached the server whole, but the server has not said "250": it is not accepted. While it
is held the test may kill the sending worker, and the server then sees its connection close and drops the
message, as a real server drops a transaction whose client went away before the reply; or the test releases it,
and the server answers "250" (on a dead connection too: that is how a client can miss an acceptance)."""

from __future__ import annotations

import contextlib
import dataclasses
import email
import queue
import select
import socket
import socketserver
import threading
import time
from collections import Counter


class SmtpError(RuntimeError):
    """The server did not see what the test waited for in time."""


@dataclasses.dataclass(frozen=True)
class Mail:
    message_id: str
    recipients: tuple[str, ...]
    # The sender's TCP port: which process sent it (harness.process_with_port).
    client_port: int


class Held:
    """A message received whole and not answered yet: `release()` answers "250" (accepted); a client that
    closes its connection first has it dropped (`gone` is set)."""

    def __init__(self, mail: Mail) -> None:
        self.mail = mail
        self.released = threading.Event()
        self.gone = threading.Event()

    def release(self) -> None:
        self.released.set()

    def wait_gone(self, timeout: float) -> None:
        if not self.gone.wait(timeout):
            raise SmtpError(f"the sender of {self.mail.message_id} still holds its connection after {timeout} s")


class SmtpServer:
    """Use it as a context manager. `hold(n, prefix)` holds the next `n` messages whose Message-ID starts with
    `prefix`; `next_held()` hands them to the test as they arrive."""

    def __init__(self) -> None:
        self.accepted: list[Mail] = []
        self.dropped: list[Mail] = []
        self._lock = threading.Lock()
        self._to_hold = 0
        self._hold_prefix = ""
        self._held: queue.Queue[Held] = queue.Queue()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.smtp = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """For the workers' EMAIL_URL (settings.EMAIL_CONFIG, django-environ: smtp, no TLS, no login)."""
        return f"smtp://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # a message still held is dropped, its handler thread returns
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def hold(self, count: int, *, prefix: str = "") -> None:
        with self._lock:
            self._to_hold, self._hold_prefix = count, prefix

    def next_held(self, timeout: float) -> Held:
        try:
            return self._held.get(timeout=timeout)
        except queue.Empty:
            raise SmtpError(f"no message held within {timeout} s") from None

    def accepted_by_id(self) -> Counter[str]:
        with self._lock:
            return Counter(mail.message_id for mail in self.accepted)

    def wait_accepted(self, message_ids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not message_ids <= set(self.accepted_by_id()):
            if time.monotonic() > deadline:
                missing = message_ids - set(self.accepted_by_id())
                raise SmtpError(f"{len(missing)} messages not accepted within {timeout} s: {sorted(missing)}")
            time.sleep(0.05)

    # -- Called by the connections' threads --

    def _decide(self, mail: Mail, connection: socket.socket) -> bool:
        """Accept `mail` now, or hold it until released (True: answer "250") or its client is gone (False)."""
        with self._lock:
            hold = self._to_hold > 0 and mail.message_id.startswith(self._hold_prefix)
            if hold:
                self._to_hold -= 1
            else:
                self.accepted.append(mail)
        if not hold:
            return True
        held = Held(mail)
        self._held.put(held)
        while not held.released.is_set():
            if self._stopping.is_set() or _closed(connection):
                with self._lock:
                    self.dropped.append(mail)
                held.gone.set()
                return False
            held.released.wait(0.02)
        with self._lock:
            self.accepted.append(mail)
        return True


def _closed(connection: socket.socket) -> bool:
    """The client closed its side (a killed process's socket is closed by the kernel): readable, and empty."""
    readable, _writable, _errors = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    smtp: SmtpServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self._converse()

    def _converse(self) -> None:
        self.reply("220 faults.test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 faults.test")
            elif verb == b"MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == b"RCPT":
                recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._data()
                if data is None:
                    return
                message_id = str(email.message_from_bytes(data).get("Message-ID", "")).strip()
                mail = Mail(message_id=message_id, recipients=tuple(recipients), client_port=self.client_address[1])
                if not self.server.smtp._decide(mail, self.request):
                    return
                self.reply("250 OK: queued")
            elif verb in (b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _data(self) -> bytes | None:
        lines = []
        while line := self.rfile.readline():
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)
        return None  # the client went away in the middle of its message
