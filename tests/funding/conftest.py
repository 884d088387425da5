import pytest

from funding.references import funding_references_load


@pytest.fixture
def references(db) -> None:
    """The funders' list and Certif'Pro's tariffs, as `manage.py load_tariffs` loads them. Loaded by each test:
    a transactional test elsewhere flushes the database, data migrations included."""
    funding_references_load()
