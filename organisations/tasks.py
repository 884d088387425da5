"""The daily sweep of the stored documents (clea_platform.documents), run from the bottom app: it reads every app's
FileFields through the app registry and imports none. (`directory_sheet_generate_task` keeps the name it had here
when it lived in this module: it is registered by directory/tasks.py.)"""

from __future__ import annotations

from celery import shared_task

from clea_platform.documents import orphan_files_collect
from organisations.services import user_sessions_purge


@shared_task
def documents_collect_orphans_task() -> int:
    """Daily: remove the stored files no row names, older than the grace period. Idempotent: a second run finds
    none left; returns how many it removed."""
    return len(orphan_files_collect())


@shared_task
def user_sessions_purge_task() -> int:
    """Daily: the rows of the sessions that their idle or absolute limit ended (organisations.services)."""
    return user_sessions_purge()
