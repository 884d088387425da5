from celery import shared_task

from intake.services import interview_requests_follow_up


@shared_task
def interview_requests_follow_up_task() -> dict[str, int]:
    """Daily: remind the organisations of unanswered interview requests, then expire them. Safe to run twice."""
    return interview_requests_follow_up()
