from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clea_platform.changes import TracksChanges
from organisations.models import Role

if TYPE_CHECKING:
    from candidates.models import Dossier
    from organisations.models import Membership


def hours_label(hours: Decimal) -> str:
    """Hours as the screens print them (floatformat:"-1"): 12, 7,5."""
    return floatformat(hours, "-1")


def plan_calendar_errors(dossier: Dossier, starts_on: datetime.date, ends_on: datetime.date) -> dict[str, str]:
    """A plan's calendar: after the prior evaluation that found the gaps, within the 5-year window (the form and
    the service say it in the same words, on the field concerned)."""
    errors = {}
    if dossier.window_starts_on and starts_on < dossier.window_starts_on:
        errors["starts_on"] = gettext(
            "Le parcours commence au plus tôt le %(date)s, jour de l'évaluation préalable qui a établi les critères à "
            "acquérir."
        ) % {"date": f"{dossier.window_starts_on:%d/%m/%Y}"}
    if ends_on < starts_on:
        errors["ends_on"] = gettext("La fin prévue précède le début.")
    elif dossier.deadline and ends_on > dossier.deadline:
        errors["ends_on"] = gettext("Le parcours doit se terminer au plus tard le %(date)s, échéance des 5 ans.") % {
            "date": f"{dossier.deadline:%d/%m/%Y}"
        }
    return errors


class TrainingPlanQuerySet(models.QuerySet["TrainingPlan"]):
    @staticmethod
    def _defined_before_leaving(organisation_id: int) -> models.Exists:
        """The plans defined while the dossier was this evaluator organisation's, once it has moved to another
        (issue 19): the previous organisation keeps reading what it did, not what came after."""
        from candidates.models import DossierTransfer

        return models.Exists(
            DossierTransfer.objects.filter(
                dossier_id=models.OuterRef("dossier_id"),
                from_organisation_id=organisation_id,
                at__gte=models.OuterRef("created_at"),
            )
        )

    def with_progress(self) -> TrainingPlanQuerySet:
        """Hours of the sessions done, as `hours_done`, in the list's own query (a subquery, no row per session)."""
        done = (
            TrainingSession.objects.filter(plan=models.OuterRef("pk"), done=True)
            .order_by()
            .values("plan")
            .annotate(total=models.Sum("duration_hours"))
            .values("total")
        )
        return self.annotate(
            hours_done=Coalesce(
                models.Subquery(done), models.Value(0), output_field=models.DecimalField(max_digits=6, decimal_places=1)
            )
        )

    def listed(self) -> TrainingPlanQuerySet:
        """As the lists show them: with their progress, candidate, trainer and organisation; the plans under way
        first, the nearest end first."""
        return (
            self.with_progress()
            .select_related("dossier__candidate", "trainer", "organisation")
            .order_by("completed_at", "ends_on", "-id")
        )

    def visible_to(self, membership: Membership | None) -> TrainingPlanQuerySet:
        """The dossier's evaluator organisation; the training organisation's trainers and administrators
        (who may be another tenant: they see the plan and the candidate's identity, nothing else);
        Certif'Pro."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role == Role.TRAINER:
            return self.filter(organisation_id=membership.organisation_id, trainer_id=membership.user_id)
        if membership.role == Role.ORG_ADMIN:
            return self.filter(
                models.Q(organisation_id=membership.organisation_id)
                | models.Q(dossier__organisation_id=membership.organisation_id)
                | self._defined_before_leaving(membership.organisation_id)
            )
        if membership.role in {Role.COUNSELLOR, Role.EVALUATOR}:
            return self.filter(
                models.Q(dossier__organisation_id=membership.organisation_id)
                | self._defined_before_leaving(membership.organisation_id)
            )
        if membership.role == Role.JURY_MEMBER:
            from candidates.models import Dossier

            return self.filter(dossier__in=Dossier.objects.visible_to(membership))
        return self.none()


class TrainingPlan(TracksChanges, models.Model):
    """The individualised training of one gap cycle: what is missing after an evaluation, who trains, when."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

    # The training organisation: the tenant whose trainer delivers the plan.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="training_plans",
        verbose_name=_("organisme de formation"),
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="training_plans", verbose_name=_("dossier")
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"), default=1)
    trainer = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        related_name="training_plans",
        verbose_name=_("formation assurée par"),
    )
    objectives = models.TextField(_("objectifs pédagogiques"))
    target_criteria = models.ManyToManyField(
        "referentiels.Criterion", related_name="+", blank=True, verbose_name=_("critères visés")
    )
    planned_hours = models.DecimalField(
        _("durée prévue (heures)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin prévue"))
    completed_at = models.DateTimeField(_("formation terminée le"), null=True, blank=True)
    # Why the training ended with fewer hours done than planned: asked at completion in that case only.
    shortfall_reason = models.TextField(_("motif des heures non réalisées"), blank=True)
    created_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("créé par")
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)

    objects = TrainingPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("parcours de formation")
        verbose_name_plural = _("parcours de formation")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "cycle"], name="training_plan_unique_cycle"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="training_plan_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} – parcours {self.cycle}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    def sessions_done_hours(self) -> Decimal:
        """Hours of the sessions done, from the prefetched sessions when they are (`with_progress()` annotates the
        same figure, as `hours_done`, on the plans of a list: hence this name)."""
        return sum((s.duration_hours for s in self.sessions.all() if s.done), start=Decimal(0))

    def has_shortfall(self, hours_done: Decimal) -> bool:
        """Fewer hours done than planned: the training may still end, but the reason is asked for."""
        return hours_done < self.planned_hours

    def check_completion(self, *, shortfall_reason: str, today: datetime.date | None = None) -> None:
        """Whether the training may be declared done today. The day of completion is the training's end: it
        cannot precede its last session done, nor leave sessions planned after it (the calendar would then show
        sessions of a finished training, and the final evaluation covers only what was trained). With fewer
        hours done than planned, the reason is asked for: the timeline keeps it."""
        today = today or timezone.localdate()
        models.prefetch_related_objects([self], "sessions")
        sessions = list(self.sessions.all())
        done = [s for s in sessions if s.done]
        errors: dict[str, list[str]] = {}
        last_done = max((s.date for s in done), default=None)
        if last_done and last_done > today:
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                gettext(
                    "La dernière séance réalisée est datée du %(date)s : la formation ne peut pas être terminée avant."
                )
                % {"date": f"{last_done:%d/%m/%Y}"}
            )
        planned = sorted(s.date for s in sessions if not s.done and s.date > today)
        if planned:
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                ngettext(
                    "Une séance est encore prévue le %(date)s : retirez-la du calendrier ou attendez qu'elle ait eu "
                    "lieu pour terminer la formation.",
                    "%(n)s séances sont encore prévues, à partir du %(date)s : retirez-les du calendrier ou "
                    "attendez qu'elles aient eu lieu pour terminer la formation.",
                    len(planned),
                )
                % {"n": len(planned), "date": f"{planned[0]:%d/%m/%Y}"}
            )
        hours_done = self.sessions_done_hours()
        if self.has_shortfall(hours_done) and not shortfall_reason.strip():
            errors["shortfall_reason"] = [
                gettext(
                    "%(done)s h réalisées sur %(planned)s h prévues : indiquez pourquoi la formation se termine "
                    "avant les heures prévues."
                )
                % {"done": hours_label(hours_done), "planned": hours_label(self.planned_hours)}
            ]
        if errors:
            raise ValidationError(errors)

    def is_delivered_by(self, membership: Membership) -> bool:
        """The plan's own trainer, working for the plan's training organisation: the only one who acts on it
        (training/services.py refuses anyone else; the screens and the API ask first, so that any other role
        gets 403 before its input is even read)."""
        return (
            membership.role == Role.TRAINER
            and membership.user_id == self.trainer_id
            and membership.organisation_id == self.organisation_id
        )


class TrainingSession(TracksChanges, models.Model):
    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("plan", "plan__dossier")
    plan = models.ForeignKey(
        TrainingPlan, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("parcours")
    )
    date = models.DateField(_("date"))
    duration_hours = models.DecimalField(
        _("durée (heures)"), max_digits=4, decimal_places=1, validators=[MinValueValidator(0.5), MaxValueValidator(12)]
    )
    topic = models.CharField(_("contenu"), max_length=255)
    done = models.BooleanField(_("réalisée"), default=False)

    tenant_path = "plan__organisation"

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.topic}"

    def clean(self) -> None:
        """A session takes place within its plan's calendar, and is done only once its day has come (the
        platform's day, Europe/Paris)."""
        if self.plan_id is None:  # a session of a plan not saved yet (the admin's add page): no calendar yet
            return
        errors: dict[str, str] = {}
        plan = self.plan
        if self.date and not plan.starts_on <= self.date <= plan.ends_on:
            errors["date"] = gettext("La séance doit avoir lieu pendant le parcours, du %(start)s au %(end)s.") % {
                "start": f"{plan.starts_on:%d/%m/%Y}",
                "end": f"{plan.ends_on:%d/%m/%Y}",
            }
        elif self.done and self.date and self.date > timezone.localdate():
            errors["done"] = gettext(
                "La séance du %(date)s n'a pas encore eu lieu : elle ne peut pas être marquée réalisée."
            ) % {"date": f"{self.date:%d/%m/%Y}"}
        if errors:
            raise ValidationError(errors)


class ProgressNote(TracksChanges, models.Model):
    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("plan", "plan__dossier")
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="notes", verbose_name=_("parcours"))
    author = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("auteur")
    )
    at = models.DateTimeField(_("date"), auto_now_add=True)
    text = models.TextField(_("note de progression"))

    tenant_path = "plan__organisation"

    class Meta:
        verbose_name = _("note de progression")
        verbose_name_plural = _("notes de progression")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y} {self.text[:40]}"
