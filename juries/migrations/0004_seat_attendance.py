"""A seat's presence becomes the attendance recorded when the deliberation opens: present, absent or excused.

Sessions already deliberating or closed keep what they recorded (present, or absent: the old flag knew no
"excused"); the others have their attendance recorded on their day, so it starts blank."""

from django.db import migrations, models

OPENED = ("deliberating", "closed")


def attendance_from_presence(apps, schema_editor):
    SessionSeat = apps.get_model("juries", "SessionSeat")
    opened = SessionSeat.objects.filter(session__state__in=OPENED)
    opened.filter(present=True).update(attendance="present")
    opened.filter(present=False).update(attendance="absent")


def presence_from_attendance(apps, schema_editor):
    SessionSeat = apps.get_model("juries", "SessionSeat")
    SessionSeat.objects.filter(attendance__in=("absent", "excused")).update(present=False)


class Migration(migrations.Migration):
    dependencies = [
        ("juries", "0003_session_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="sessionseat",
            name="attendance",
            field=models.CharField(
                blank=True,
                choices=[("present", "Présent·e"), ("absent", "Absent·e"), ("excused", "Excusé·e")],
                max_length=10,
                verbose_name="présence",
            ),
        ),
        migrations.RunPython(attendance_from_presence, presence_from_attendance),
        migrations.RemoveField(model_name="sessionseat", name="present"),
    ]
