from celery import shared_task

from indicators.facts import facts_rebuild


@shared_task
def facts_rebuild_task() -> dict[str, int]:
    """Nightly: every fact rebuilt from the journey's tables (what no event announced: a funder added, a birth date
    anonymised, a dossier deleted). Safe to run twice."""
    return {"facts": facts_rebuild()}
