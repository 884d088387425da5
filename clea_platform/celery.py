import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clea_platform.settings")

app = Celery("clea_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
