"""docker-compose.yml, read as YAML: no Docker engine runs on the development machines nor in CI, so the file is
checked for what the platform's promises rest on (issue 13)."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings


def compose() -> dict:
    return yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())


def test_redis_keeps_its_queue_across_a_restart_in_an_append_only_file_on_its_volume():
    redis = compose()["services"]["redis"]
    command = redis["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert command[0] == "redis-server"
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    volumes = {volume.split(":")[1]: volume.split(":")[0] for volume in redis["volumes"]}
    assert options["--dir"] in volumes
    assert volumes[options["--dir"]] in compose()["volumes"]


def test_the_workers_and_beat_run_the_platform_image_with_the_media_volume():
    services = compose()["services"]
    for name, queue in (("worker", "-Q celery"), ("worker-pdf", "-Q pdf"), ("beat", " beat ")):
        service = services[name]
        assert queue in service["command"], name
        assert service["image"] == services["web"]["image"], name
        assert "media:/app/media" in service["volumes"], name
        assert service["depends_on"]["redis"]["condition"] == "service_healthy", name
