import random

import pytest
from django.test import Client

from tests.directory.support import load_sample_communes


@pytest.fixture
def communes(db):
    """The sample communes (a few dozen real ones), by INSEE code."""
    return load_sample_communes()


def client_from_own_address() -> Client:
    """A client without login, from an address of its own: the public pages' rate limits count per address
    (in a cache that may outlive the test run), so tests never use up each other's allowance."""
    return Client(REMOTE_ADDR=f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}")


@pytest.fixture
def anonymous_client() -> Client:
    return client_from_own_address()
