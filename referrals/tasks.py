from celery import shared_task

from referrals.services import referrals_expire


@shared_task
def referrals_expire_task() -> int:
    """Daily: expire the referrals left unanswered past settings.REFERRAL_EXPIRY_DAYS. Safe to run twice."""
    return referrals_expire()
