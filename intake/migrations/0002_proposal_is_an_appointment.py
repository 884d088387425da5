"""The proposed meeting moves from the request's own columns to a scheduling appointment (issue 19): each request
with a proposal gets its appointment, in the state its answer gives, before the columns go."""

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def proposals_to_appointments(apps, schema_editor):
    InterviewRequest = apps.get_model("intake", "InterviewRequest")
    Appointment = apps.get_model("scheduling", "Appointment")
    Membership = apps.get_model("organisations", "Membership")
    now = timezone.now()
    rows = InterviewRequest.objects.filter(proposed_starts_at__isnull=False, proposed_with__isnull=False)
    for row in rows.iterator():
        minutes = min(max(row.proposed_duration_minutes or 60, 15), 480)
        ends_at = row.proposed_starts_at + datetime.timedelta(minutes=minutes)
        with_membership = Membership.objects.get(pk=row.proposed_with_id)
        attached = row.state == "converted" and row.dossier_id is not None
        if row.state in ("other_time", "expired") or (row.state == "converted" and not attached):
            state, reason = "cancelled", "La personne demande un autre horaire" if row.state == "other_time" else ""
        elif attached and row.proposed_starts_at <= now:
            state, reason = "done", ""
        else:
            state, reason = "planned", ""
        row.appointment = Appointment.objects.create(
            organisation_id=row.organisation_id,
            dossier_id=row.dossier_id if attached else None,
            person_name="" if attached else f"{row.first_name} {row.last_name}"[:300],
            person_email="" if attached else row.email,
            purpose="information",
            with_membership_id=row.proposed_with_id,
            starts_at=row.proposed_starts_at,
            duration_minutes=minutes,
            ends_at=ends_at,
            modality="site",
            site_id=row.site_id,
            state=state,
            cancel_reason=reason,
            booked_by_id=with_membership.user_id,
            booked_at=row.proposed_starts_at if row.proposed_starts_at < now else now,
        )
        row.save(update_fields=["appointment"])


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("scheduling", "0002_appointment_without_dossier"),
    ]

    operations = [
        migrations.AddField(
            model_name="interviewrequest",
            name="appointment",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="interview_request",
                to="scheduling.appointment",
                verbose_name="rendez-vous proposé",
            ),
        ),
        migrations.RunPython(proposals_to_appointments, migrations.RunPython.noop),
        migrations.RemoveField(model_name="interviewrequest", name="proposed_duration_minutes"),
        migrations.RemoveField(model_name="interviewrequest", name="proposed_starts_at"),
        migrations.RemoveField(model_name="interviewrequest", name="proposed_with"),
    ]
