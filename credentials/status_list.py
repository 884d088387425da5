"""W3C Bitstring Status List v1.0: where a credential's revocation bit lives, and the list's encoding.

Each list holds 131,072 positions (16 KB before compression), the minimum the specification sets so that a
list does not reveal whose bit changed (§5.1, herd privacy); list n covers the indexes (n-1)·131,072 to
n·131,072-1. `encodedList` is the Multibase base64url form ("u" prefix, no padding) of the GZIP-compressed
bitstring, whose first index is the left-most bit of the first byte (§3.2).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

LIST_SIZE = 131_072


def list_number(index: int) -> int:
    return index // LIST_SIZE + 1


def index_range(number: int) -> tuple[int, int]:
    first = (number - 1) * LIST_SIZE
    return first, first + LIST_SIZE - 1


def status_list_url(number: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("credentials:status_list", kwargs={"number": number})


def encode(set_positions: Iterable[int]) -> str:
    bits = bytearray(LIST_SIZE // 8)
    for position in set_positions:
        bits[position // 8] |= 0x80 >> (position % 8)
    # mtime=0: the same bits give the same bytes, hence the same signed list and the same ETag.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded_list: str) -> bytes:
    if not encoded_list.startswith("u"):
        raise ValueError("encodedList is not Multibase base64url")
    data = encoded_list[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def bit_is_set(bitstring: bytes, position: int) -> bool:
    return bool(bitstring[position // 8] & (0x80 >> (position % 8)))
