import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp_path(settings, tmp_path) -> None:
    """Attestations written by the tests go to a throw-away directory, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
