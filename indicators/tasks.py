from celery import shared_task

from indicators.cube import cube_rebuild
from indicators.facts import facts_rebuild


@shared_task
def facts_rebuild_task() -> dict[str, int]:
    """Nightly: every fact rebuilt from the journey's tables (what no event announced: a funder added, a birth date
    anonymised, a dossier deleted). Safe to run twice."""
    facts = facts_rebuild()
    return {"facts": facts, "cube": cube_rebuild()}


@shared_task
def cube_rebuild_task() -> dict[str, int]:
    """Every CUBE_REFRESH_SECONDS: the national and regional counts from the facts (which follow each step at
    once). Safe to run twice."""
    return {"cube": cube_rebuild()}
