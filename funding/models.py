"""Funding of a dossier's steps, the claims sent to funders, their payments, Certif'Pro's fees and the reporting
of certificates to the Caisse des Dépôts.

Money is stored in integer cents, excluding VAT, with the VAT rate of the line and the amount including VAT
computed once (half up) by the services. Documents (claim batches, statements, proofs) are stored with their
SHA-256 and never change once issued; whatever points at them protects them.
"""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import TruncDate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from clea_platform.certifications import Certification
from clea_platform.changes import TracksChanges
from funding.cdc import IDENTIFIER_RE
from funding.money import DEFAULT_VAT_RATE, format_euros, incl_vat
from organisations import transitions
from organisations.models import Role, TenantQuerySet, TransitionEvent

if TYPE_CHECKING:
    from collections.abc import Callable

    from organisations.models import Membership

VAT_RATE_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus whole months, clamped to the month's last day (30 November + 3 months = 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, 3 * (quarter - 1) + 1, 1)
    return start, add_months(start, 3) - datetime.timedelta(days=1)


def quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(today: datetime.date) -> tuple[int, int]:
    """The quarter before the one `today` falls in, as (year, quarter): the last finished one."""
    year, quarter = quarter_of(today)
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


# -- Funders ------------------------------------------------------------------------------------------------------


class FunderKind(models.TextChoices):
    CPF = "cpf", _("CPF (Mon Compte Formation)")
    FRANCE_TRAVAIL = "france_travail", _("France Travail")
    OPCO = "opco", _("OPCO (plan de développement des compétences)")
    REGION = "region", _("Région")
    PRO_A = "pro_a", _("Pro-A")
    TRANSITIONS_PRO = "transitions_pro", _("Transitions Pro")
    EMPLOYER = "employer", _("Employeur (en direct)")
    CANDIDATE = "candidate", _("Autofinancement")


class FunderQuerySet(models.QuerySet["Funder"]):
    def active(self) -> FunderQuerySet:
        return self.filter(is_active=True)


class Funder(models.Model):
    """A funder or funding scheme. National list kept by Certif'Pro in the administration."""

    kind = models.CharField(_("type"), max_length=20, choices=FunderKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    code = models.SlugField(
        _("code"), max_length=30, unique=True, help_text=_("Court et stable : il figure dans les numéros de lots.")
    )
    reference_label = models.CharField(
        _("référence attendue"),
        max_length=120,
        help_text=_("Ce que le financeur appelle sa référence : n° de dossier CPF, n° de convention…"),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = FunderQuerySet.as_manager()

    class Meta:
        verbose_name = _("financeur")
        verbose_name_plural = _("financeurs")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


# -- Funding lines ------------------------------------------------------------------------------------------------


class FundingStep(models.TextChoices):
    PRIOR_EVALUATION = "prior_evaluation", _("Évaluation préalable")
    TRAINING = "training", _("Formation")
    FINAL_EVALUATION = "final_evaluation", _("Évaluation finale")


class LineState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    REQUESTED = "requested", _("Demandé")
    GRANTED = "granted", _("Accordé")
    REFUSED = "refused", _("Refusé")
    INVOICED = "invoiced", _("Facturé")
    PARTIALLY_PAID = "partially_paid", _("Payé en partie")
    PAID = "paid", _("Payé")
    WRITTEN_OFF = "written_off", _("Soldé, reste abandonné")
    CANCELLED = "cancelled", _("Annulé")


L = LineState
# Lines that a withdrawn dossier stops: everything not yet invoiced (an invoiced step happened and is owed).
CANCELLABLE_STATES = [L.DRAFT, L.REQUESTED, L.GRANTED]
# A funder's claim gathers granted lines (the batch invoices them) and lines invoiced outside any batch.
CLAIMABLE_STATES = [L.GRANTED, L.INVOICED]
# Lines whose funder still owes something: invoiced and not paid in full (the "reste à percevoir" is followed).
AWAITING_PAYMENT_STATES = [L.INVOICED, L.PARTIALLY_PAID]


def _line_by(*roles: str) -> Callable[[models.Model, Any], bool]:
    # django-fsm-2 calls it with what `has_perm` got, our Membership or None (its types say a Django user).
    return lambda instance, membership: membership is not None and membership.role in roles


def step_done_on_subquery() -> models.Case:
    """The date the line's step happened, for the line's dossier: the latest closed prior evaluation, completed
    training plan or closed final evaluation (NULL if none). One expression, so lists annotate it in their query."""
    from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
    from training.models import TrainingPlan

    def evaluation_date(kind: str) -> models.Subquery:
        return models.Subquery(
            Evaluation.objects.filter(dossier=models.OuterRef("dossier"), kind=kind, status=EvaluationStatus.CLOSED)
            .order_by("-ended_on", "-id")
            .values("ended_on")[:1]
        )

    training_date = models.Subquery(
        TrainingPlan.objects.filter(dossier=models.OuterRef("dossier"), completed_at__isnull=False)
        .annotate(day=TruncDate("completed_at"))
        .order_by("-completed_at", "-id")
        .values("day")[:1]
    )
    return models.Case(
        models.When(step=FundingStep.PRIOR_EVALUATION, then=evaluation_date(EvaluationKind.PRIOR)),
        models.When(step=FundingStep.TRAINING, then=training_date),
        models.When(step=FundingStep.FINAL_EVALUATION, then=evaluation_date(EvaluationKind.FINAL)),
        default=models.Value(None),
        output_field=models.DateField(),
    )


class FundingLineQuerySet(TenantQuerySet):
    """The evaluator organisation's counsellors and administrators; Certif'Pro all; others none."""

    organisation_roles = frozenset({Role.COUNSELLOR, Role.ORG_ADMIN})

    def with_step_done_on(self) -> FundingLineQuerySet:
        return self.annotate(step_done_on=step_done_on_subquery())

    def claimable(self) -> FundingLineQuerySet:
        """Lines a claim batch may take: granted or invoiced, in no batch yet, their step happened."""
        return (
            self.filter(state__in=CLAIMABLE_STATES, batch__isnull=True)
            .with_step_done_on()
            .filter(step_done_on__isnull=False)
        )

    def in_period(self, start: datetime.date, end: datetime.date) -> FundingLineQuerySet:
        """On lines annotated by `with_step_done_on`: the step happened within the period."""
        return self.filter(step_done_on__gte=start, step_done_on__lte=end)

    def files_order(self) -> FundingLineQuerySet:
        """The order of lines in every file: stable whatever the database (a regenerated file is identical)."""
        return self.order_by("dossier__reference", "step", "funder_reference", "id")


class FundingLine(ConcurrentTransitionMixin, TracksChanges, models.Model):
    """What one funder pays for one step of one dossier, from the request to the payment."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="funding_lines",
        verbose_name=_("organisme évaluateur"),
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="funding_lines", verbose_name=_("dossier")
    )
    step = models.CharField(_("étape financée"), max_length=20, choices=FundingStep.choices)
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("financeur"))
    hours = models.DecimalField(
        _("heures"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("2000"))],
    )
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_VAT_RATE,
        validators=VAT_RATE_VALIDATORS,
        help_text=_("20 % par défaut ; 0 pour un organisme exonéré de TVA (formation)."),
    )
    requested_cents = models.PositiveBigIntegerField(_("montant demandé HT (centimes)"))
    requested_incl_vat_cents = models.PositiveBigIntegerField(_("montant demandé TTC (centimes)"))
    granted_cents = models.PositiveBigIntegerField(_("montant accordé HT (centimes)"), null=True, blank=True)
    granted_incl_vat_cents = models.PositiveBigIntegerField(_("montant accordé TTC (centimes)"), null=True, blank=True)
    invoiced_cents = models.PositiveBigIntegerField(_("montant facturé HT (centimes)"), null=True, blank=True)
    invoiced_incl_vat_cents = models.PositiveBigIntegerField(_("montant facturé TTC (centimes)"), null=True, blank=True)
    # What the funder paid so far, including VAT, over one or several payments.
    paid_cents = models.PositiveBigIntegerField(_("montant payé (centimes)"), null=True, blank=True)
    written_off_cents = models.PositiveBigIntegerField(_("reste abandonné TTC (centimes)"), null=True, blank=True)
    funder_reference = models.CharField(
        _("référence du financeur"),
        max_length=60,
        blank=True,
        help_text=_("N° de dossier CPF, convention France Travail, accord OPCO…"),
    )
    service_date = models.DateField(_("date de réalisation de l'étape"), null=True, blank=True)
    granted_on = models.DateField(_("accordé le"), null=True, blank=True)
    invoiced_on = models.DateField(_("facturé le"), null=True, blank=True)
    paid_on = models.DateField(_("payé le"), null=True, blank=True)
    written_off_on = models.DateField(_("reste abandonné le"), null=True, blank=True)
    state = FSMField(_("statut"), default=L.DRAFT, choices=LineState.choices, protected=True, db_index=True)
    batch = models.ForeignKey(
        "funding.ClaimBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("lot de réclamation"),
    )
    note = models.TextField(_("commentaire"), blank=True)
    created_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("créée par")
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = FundingLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("ligne de financement")
        verbose_name_plural = _("lignes de financement")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "funder", "state"], name="fundingline_org_funder_state"),
        ]
        constraints = [
            # A step's lines cannot exceed what was granted.
            models.CheckConstraint(
                condition=models.Q(invoiced_cents__isnull=True)
                | models.Q(granted_cents__isnull=False, invoiced_cents__lte=models.F("granted_cents")),
                name="fundingline_invoiced_within_granted",
            ),
            # Partly paid or written off: paid less than invoiced (the rest is still due, or was written off).
            models.CheckConstraint(
                condition=~models.Q(state__in=[L.PARTIALLY_PAID, L.WRITTEN_OFF])
                | models.Q(paid_cents__lt=models.F("invoiced_incl_vat_cents")),
                name="fundingline_partly_paid_below_invoiced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} – {self.get_step_display()} – {self.funder}"

    def record_event(self, **fields: Any) -> FundingLineEvent:
        """The line's history row for a transition (organisations.transitions writes it)."""
        return FundingLineEvent.objects.create(line=self, **fields)

    # -- Derived facts ---------------------------------------------------------------------------------------------

    def step_happened_on(self) -> datetime.date | None:
        """When the funded step happened (evaluation closed, training completed); None while it has not.
        Lists annotate it (`with_step_done_on`) so that no line costs a query."""
        if "step_done_on" not in self.__dict__:
            lines = FundingLine.objects.filter(pk=self.pk).with_step_done_on()
            self.__dict__["step_done_on"] = lines.values_list("step_done_on", flat=True).first() if self.pk else None
        return self.__dict__["step_done_on"]

    def step_happened(self) -> bool:
        return self.step_happened_on() is not None

    @property
    def is_open(self) -> bool:
        return self.state in CANCELLABLE_STATES

    @property
    def due_cents(self) -> int:
        """What the funder owes on the line, including VAT: the amount invoiced (none yet: 0) less what was paid.
        Its SQL twin is funding.selectors.LINE_DUE, for the sums of the lists."""
        return (self.invoiced_incl_vat_cents or 0) - (self.paid_cents or 0)

    @property
    def remainder_cents(self) -> int | None:
        """What the funder still owes, including VAT ("reste à percevoir"), while the line awaits payment; None
        before invoicing and once paid or written off."""
        if self.state not in AWAITING_PAYMENT_STATES or self.invoiced_incl_vat_cents is None:
            return None
        return self.due_cents

    def grant_departures(
        self, *, granted_cents: int | None, granted_on: datetime.date | None, today: datetime.date
    ) -> dict[str, str]:
        """What makes this grant an exception that needs an explicit reason, by field: more than was requested
        (a funder's agreement covers the request, a larger one is usually a typing error), or an agreement dated
        in the future (an agreement is recorded once received). Empty for an ordinary grant."""
        departures: dict[str, str] = {}
        if granted_cents is not None and granted_cents > self.requested_cents:
            departures["granted_cents"] = gettext(
                "Le montant accordé (%(granted)s HT) dépasse le montant demandé (%(requested)s HT) : corrigez-le, "
                "ou indiquez le motif de cette dérogation."
            ) % {"granted": format_euros(granted_cents), "requested": format_euros(self.requested_cents)}
        if granted_on is not None and granted_on > today:
            departures["granted_on"] = gettext(
                "La date de l'accord (%(date)s) est dans le futur : corrigez-la, ou indiquez le motif de cette "
                "dérogation."
            ) % {"date": f"{granted_on:%d/%m/%Y}"}
        return departures

    def actions_for(self, membership: Membership | None) -> list[dict[str, Any]]:
        """The transitions this membership may take now (the state machine's answer, conditions included), as
        the screens offer them: the dangerous ones last. Annotate `with_step_done_on` to spare a query."""
        actions = [
            {
                "name": transition.name,
                "label": transition.custom["label"],
                "danger": transition.custom.get("danger", False),
                "form": transition.custom.get("form", False),
            }
            # django-fsm-2 adds get_available_user_<field>_transitions() at class creation: no static type to see.
            for transition in self.get_available_user_state_transitions(membership)  # type: ignore[attr-defined]
            if not transition.custom.get("automatic")
        ]
        order = ["request", "grant", "invoice", "refuse", "cancel", "write_off"]
        return sorted(actions, key=lambda action: (action["danger"], order.index(action["name"])))

    # -- Transitions: each changes this instance only; funding/services.py locks, validates and records ---------

    @transition(
        field=state,
        source=L.DRAFT,
        target=L.REQUESTED,
        permission=_line_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Demande envoyée au financeur"), "form": False},
    )
    def request(self) -> None:
        pass

    @transition(
        field=state,
        source=L.REQUESTED,
        target=L.GRANTED,
        permission=_line_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Enregistrer l'accord"), "form": True},
    )
    def grant(self, *, granted_cents: int, granted_on: datetime.date, funder_reference: str) -> None:
        self.granted_cents = granted_cents
        self.granted_incl_vat_cents = incl_vat(granted_cents, self.vat_rate)
        self.granted_on = granted_on
        self.funder_reference = funder_reference

    @transition(
        field=state,
        source=L.REQUESTED,
        target=L.REFUSED,
        permission=_line_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Enregistrer le refus"), "form": True, "danger": True},
    )
    def refuse(self) -> None:
        pass

    @transition(
        field=state,
        source=L.GRANTED,
        target=L.INVOICED,
        conditions=[step_happened],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
        permission=_line_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Facturer"), "form": True},
    )
    def invoice(self, *, invoiced_cents: int, invoiced_on: datetime.date) -> None:
        self.invoiced_cents = invoiced_cents
        self.invoiced_incl_vat_cents = incl_vat(invoiced_cents, self.vat_rate)
        self.invoiced_on = invoiced_on
        self.service_date = self.step_happened_on()

    @transition(
        field=state,
        source=AWAITING_PAYMENT_STATES,
        target=RETURN_VALUE(L.PARTIALLY_PAID, L.PAID),
        permission=_line_by(Role.ORG_ADMIN),
        custom={"automatic": True},
    )
    def pay(self, *, amount_cents: int, paid_on: datetime.date) -> str:
        """One payment of the funder: paid in full once the payments reach the amount invoiced, partly before.
        The service refuses an amount above what remains due."""
        remainder = self.remainder_cents or 0
        if not 0 < amount_cents <= remainder:
            raise ValueError(f"A payment of {amount_cents} cents on a line owing {remainder}.")
        self.paid_cents = (self.paid_cents or 0) + amount_cents
        self.paid_on = paid_on
        return L.PAID if amount_cents == remainder else L.PARTIALLY_PAID

    @transition(
        field=state,
        source=L.PARTIALLY_PAID,
        target=L.WRITTEN_OFF,
        permission=_line_by(Role.ORG_ADMIN),
        custom={"label": _("Abandonner le reste à percevoir"), "form": True, "danger": True},
    )
    def write_off(self, *, written_off_on: datetime.date) -> None:
        self.written_off_cents = self.remainder_cents
        self.written_off_on = written_off_on

    @transition(
        field=state,
        source=CANCELLABLE_STATES,
        target=L.CANCELLED,
        permission=_line_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Annuler la ligne"), "form": True, "danger": True},
    )
    def cancel(self) -> None:
        pass


def transition_label(name: str) -> str:
    """The user-facing label of a line transition ("grant" → "Enregistrer l'accord")."""
    return transitions.transition_label(FundingLine, name)


class FundingLineEventQuerySet(models.QuerySet["FundingLineEvent"]):
    def visible_to(self, membership: Membership | None) -> FundingLineEventQuerySet:
        return self.filter(line__in=FundingLine.objects.visible_to(membership))


class FundingLineEvent(TransitionEvent):
    """A line's history: every transition, who, when, from, to, why. Append-only."""

    line = models.ForeignKey(FundingLine, on_delete=models.CASCADE, related_name="events", verbose_name=_("ligne"))
    from_state = models.CharField(_("statut de départ"), max_length=20, choices=LineState.choices, blank=True)
    to_state = models.CharField(_("statut d'arrivée"), max_length=20, choices=LineState.choices)

    objects = FundingLineEventQuerySet.as_manager()
    tenant_path = "line__organisation"

    class Meta(TransitionEvent.Meta):
        verbose_name = _("événement d'une ligne de financement")
        verbose_name_plural = _("historique des lignes de financement")


class FundingProofQuerySet(models.QuerySet["FundingProof"]):
    def visible_to(self, membership: Membership | None) -> FundingProofQuerySet:
        return self.filter(line__in=FundingLine.objects.visible_to(membership))


class FundingProof(TracksChanges, models.Model):
    """A proof attached to a line (the funder's agreement, an attendance sheet, an invoice)."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("line", "line__dossier")

    line = models.ForeignKey(FundingLine, on_delete=models.PROTECT, related_name="proofs", verbose_name=_("ligne"))
    label = models.CharField(_("intitulé"), max_length=200)
    file = models.FileField(_("fichier"), upload_to="financements/justificatifs/%Y/")
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("déposé par")
    )
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    objects = FundingProofQuerySet.as_manager()
    tenant_path = "line__organisation"

    class Meta:
        verbose_name = _("justificatif")
        verbose_name_plural = _("justificatifs")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.label


# -- Claim batches and payments ----------------------------------------------------------------------------------


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours de production")
    ISSUED = "issued", _("Émis")
    FAILED = "failed", _("Échec")


class ClaimBatchQuerySet(TenantQuerySet):
    """The organisation's administrators; Certif'Pro."""

    organisation_roles = frozenset({Role.ORG_ADMIN})


class ClaimBatch(TracksChanges, models.Model):
    """What the organisation sends or uploads to one funder for one period: the lines to claim as CSV and XLSX,
    with a PDF summary. Immutable once issued; a line belongs to one batch at most (`FundingLine.batch`)."""

    FROZEN_FIELDS = (
        "number",
        "period_start",
        "period_end",
        "total_lines",
        "total_cents",
        "total_incl_vat_cents",
        "issued_on",
        "csv_file",
        "xlsx_file",
        "pdf_file",
        "csv_sha256",
        "xlsx_sha256",
        "pdf_sha256",
    )

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="claim_batches",
        verbose_name=_("organisme évaluateur"),
    )
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="batches", verbose_name=_("financeur"))
    number = models.CharField(_("numéro"), max_length=60, unique=True)
    period_start = models.DateField(_("période du"))
    period_end = models.DateField(_("période au"))
    status = models.CharField(
        _("statut"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED, db_index=True
    )
    total_lines = models.PositiveIntegerField(_("lignes"), default=0)
    processed_lines = models.PositiveIntegerField(_("lignes traitées"), default=0)
    total_cents = models.PositiveBigIntegerField(_("total HT (centimes)"), default=0)
    total_incl_vat_cents = models.PositiveBigIntegerField(_("total TTC (centimes)"), default=0)
    issued_on = models.DateField(_("date d'émission"), null=True, blank=True)
    issued_at = models.DateTimeField(_("émis le"), null=True, blank=True)
    csv_file = models.FileField(_("fichier CSV"), upload_to="financements/lots/%Y/", blank=True)
    xlsx_file = models.FileField(_("fichier XLSX"), upload_to="financements/lots/%Y/", blank=True)
    pdf_file = models.FileField(_("récapitulatif PDF"), upload_to="financements/lots/%Y/", blank=True)
    csv_sha256 = models.CharField(_("empreinte SHA-256 du CSV"), max_length=64, blank=True)
    xlsx_sha256 = models.CharField(_("empreinte SHA-256 du XLSX"), max_length=64, blank=True)
    pdf_sha256 = models.CharField(_("empreinte SHA-256 du PDF"), max_length=64, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    requested_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("demandé par")
    )
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)

    objects = ClaimBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("lot de réclamation")
        verbose_name_plural = _("lots de réclamation")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="claimbatch_period_ordered"
            ),
            # One batch in production per funder at a time: two would compete for the same lines.
            models.UniqueConstraint(
                fields=["organisation", "funder"],
                condition=models.Q(status__in=["queued", "running"]),
                name="claimbatch_one_in_progress_per_funder",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An issued batch was sent to a funder: what it says never changes.
        if self.pk is not None and ClaimBatch.objects.filter(pk=self.pk, status=BatchStatus.ISSUED).exists():
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) & {*self.FROZEN_FIELDS, "status"}:
                raise PermissionError("An issued claim batch is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_issued:
            raise PermissionError("An issued claim batch is immutable.")
        return super().delete(*args, **kwargs)

    @property
    def is_issued(self) -> bool:
        return self.status == BatchStatus.ISSUED

    @property
    def in_progress(self) -> bool:
        return self.status in {BatchStatus.QUEUED, BatchStatus.RUNNING}

    @property
    def progress_percent(self) -> int:
        if self.is_issued:
            return 100
        return int(100 * self.processed_lines / self.total_lines) if self.total_lines else 0

    @property
    def progress_step(self) -> int:
        """The last quarter of the lines passed (0, 25, 50, 75 or 100): the live region announces the production at
        each quarter, not at every poll (funding.views.batch_status)."""
        return self.progress_percent // 25 * 25

    def filename(self, extension: str) -> str:
        return f"{self.number}.{extension}"


class PaymentQuerySet(TenantQuerySet):
    """The organisation's administrators; Certif'Pro."""

    organisation_roles = frozenset({Role.ORG_ADMIN})


class Payment(models.Model):
    """A funder's payment against a batch, line by line as its remittance advice lists them, reconciled with the
    batch: matched lines are paid; missing, unexpected and different amounts are listed."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="funding_payments",
        verbose_name=_("organisme évaluateur"),
    )
    batch = models.ForeignKey(ClaimBatch, on_delete=models.PROTECT, related_name="payments", verbose_name=_("lot"))
    received_on = models.DateField(_("reçu le"))
    reference = models.CharField(_("référence du virement"), max_length=100)
    total_cents = models.PositiveBigIntegerField(_("montant total (centimes)"), default=0)
    # Batch lines still unpaid that this payment did not cover, as they were when it was recorded.
    missing_line_ids = models.JSONField(_("lignes manquantes"), default=list, blank=True)
    recorded_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("enregistré par")
    )
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.received_on:%d/%m/%Y})"


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("Rapproché")
    AMOUNT_DIFFERENCE = "amount_difference", _("Écart de montant")
    UNEXPECTED = "unexpected", _("Inattendu")


class PaymentLine(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines", verbose_name=_("paiement"))
    position = models.PositiveIntegerField(_("rang"))
    funder_reference = models.CharField(_("référence du financeur"), max_length=60)
    amount_cents = models.PositiveBigIntegerField(_("montant payé (centimes)"))
    status = models.CharField(_("rapprochement"), max_length=20, choices=MatchStatus.choices)
    funding_line = models.ForeignKey(
        FundingLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_lines",
        verbose_name=_("ligne de financement"),
    )
    expected_cents = models.PositiveBigIntegerField(_("montant attendu (centimes)"), null=True, blank=True)

    tenant_path = "payment__organisation"

    class Meta:
        verbose_name = _("ligne de paiement")
        verbose_name_plural = _("lignes de paiement")
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.funder_reference}: {self.amount_cents}"

    @property
    def difference_cents(self) -> int | None:
        return None if self.expected_cents is None else self.amount_cents - self.expected_cents


# -- Certif'Pro fees ---------------------------------------------------------------------------------------------


class FeeKind(models.TextChoices):
    PRIOR_EVALUATION = "prior_evaluation", _("Évaluation préalable")
    CERTIFICATE = "certificate", _("Certificat délivré")
    APPLICATION = "application", _("Frais de dossier d'habilitation")
    ESTABLISHMENT = "establishment", _("Établissement (SIRET) par période d'habilitation")


class TariffQuerySet(models.QuerySet["Tariff"]):
    def in_force(self, *, certification: str, kind: str, on: datetime.date) -> Tariff | None:
        return (
            self.filter(certification=certification, kind=kind, valid_from__lte=on)
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on))
            .order_by("-valid_from")
            .first()
        )


class Tariff(models.Model):
    """Certif'Pro's fee for one kind of event of one certification, over a validity period."""

    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    kind = models.CharField(_("type de redevance"), max_length=20, choices=FeeKind.choices)
    amount_cents = models.PositiveBigIntegerField(_("montant HT (centimes)"))
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"), max_digits=5, decimal_places=2, default=DEFAULT_VAT_RATE, validators=VAT_RATE_VALIDATORS
    )
    valid_from = models.DateField(_("applicable du"))
    valid_until = models.DateField(_("applicable jusqu'au"), null=True, blank=True)

    objects = TariffQuerySet.as_manager()

    class Meta:
        verbose_name = _("tarif de redevance")
        verbose_name_plural = _("tarifs des redevances")
        ordering = ["certification", "kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["certification", "kind", "valid_from"], name="tariff_unique_start"),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("valid_from")),
                name="tariff_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_certification_display()} – {self.get_kind_display()}"

    def clean(self) -> None:
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("La fin de validité précède son début.")})
        if not (self.certification and self.kind and self.valid_from):
            return
        overlapping = Tariff.objects.filter(certification=self.certification, kind=self.kind).exclude(pk=self.pk)
        overlapping = overlapping.filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=self.valid_from)
        )
        if self.valid_until:
            overlapping = overlapping.filter(valid_from__lte=self.valid_until)
        if overlapping.exists():
            raise ValidationError(
                _("Un autre tarif de ce type s'applique déjà sur tout ou partie de cette période : fermez-le d'abord.")
            )


class FeeEntryQuerySet(TenantQuerySet):
    """The organisation's administrators see what they owe; Certif'Pro sees every organisation's."""

    organisation_roles = frozenset({Role.ORG_ADMIN})


class FeeEntry(models.Model):
    """One fee owed to Certif'Pro, created by the event itself (never by hand), exactly once per event."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="fee_entries",
        verbose_name=_("organisme évaluateur"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=FeeKind.choices)
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    # What caused the fee, e.g. "evaluation:12": unique with the kind, so a retried event records nothing twice.
    source = models.CharField(_("événement"), max_length=80)
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="entries", verbose_name=_("tarif"))
    amount_cents = models.PositiveBigIntegerField(_("montant HT (centimes)"))
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=5, decimal_places=2)
    incl_vat_cents = models.PositiveBigIntegerField(_("montant TTC (centimes)"))
    occurred_on = models.DateField(_("date de l'événement"), db_index=True)
    dossier = models.ForeignKey(
        "candidates.Dossier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dossier"),
    )
    evaluation = models.ForeignKey(
        "evaluations.Evaluation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("évaluation"),
    )
    certificate = models.ForeignKey(
        "juries.Certificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("certificat"),
    )
    habilitation = models.ForeignKey(
        "organisations.Habilitation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("habilitation"),
    )
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    statement = models.ForeignKey(
        "funding.Statement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("relevé"),
    )
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    objects = FeeEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("redevance")
        verbose_name_plural = _("redevances")
        ordering = ["occurred_on", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "source"], name="feeentry_once_per_event")]
        indexes = [models.Index(fields=["organisation", "occurred_on"], name="feeentry_org_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source}"

    @property
    def vat_cents(self) -> int:
        return self.incl_vat_cents - self.amount_cents


class StatementQuerySet(TenantQuerySet):
    """The organisation's administrators; Certif'Pro."""

    organisation_roles = frozenset({Role.ORG_ADMIN})


class Statement(models.Model):
    """An organisation's quarterly statement of Certif'Pro fees (PDF and CSV): the entries of the quarter and
    any earlier one not yet on a statement. Immutable once generated."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="fee_statements",
        verbose_name=_("organisme évaluateur"),
    )
    number = models.CharField(_("numéro"), max_length=60, unique=True)
    period_start = models.DateField(_("trimestre du"))
    period_end = models.DateField(_("trimestre au"))
    entry_count = models.PositiveIntegerField(_("redevances"), default=0)
    total_cents = models.PositiveBigIntegerField(_("total HT (centimes)"), default=0)
    total_incl_vat_cents = models.PositiveBigIntegerField(_("total TTC (centimes)"), default=0)
    issued_on = models.DateField(_("date d'émission"))
    csv_file = models.FileField(_("fichier CSV"), upload_to="financements/releves/%Y/")
    pdf_file = models.FileField(_("fichier PDF"), upload_to="financements/releves/%Y/")
    csv_sha256 = models.CharField(_("empreinte SHA-256 du CSV"), max_length=64)
    pdf_sha256 = models.CharField(_("empreinte SHA-256 du PDF"), max_length=64)
    generated_at = models.DateTimeField(_("produit le"), auto_now_add=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("relevé trimestriel de redevances")
        verbose_name_plural = _("relevés trimestriels de redevances")
        ordering = ["-period_start", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "period_start"], name="statement_one_per_quarter")
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A statement was sent to the organisation: it is written once and never changes.
        if self.pk is not None and Statement.objects.filter(pk=self.pk).exists():
            raise PermissionError("A fee statement is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("A fee statement is immutable.")

    @property
    def quarter_label(self) -> str:
        year, quarter = quarter_of(self.period_start)
        return f"T{quarter} {year}"

    def filename(self, extension: str) -> str:
        return f"{self.number}.{extension}"


# -- Reporting of certificates to the Caisse des Dépôts ----------------------------------------------------------

# Certifiers report delivered certificates to the Caisse des Dépôts within 3 months.
CDC_REPORT_MONTHS = 3


def cdc_deadline(awarded_on: datetime.date) -> datetime.date:
    return add_months(awarded_on, CDC_REPORT_MONTHS)


class CertificateReportQuerySet(models.QuerySet["CertificateReport"]):
    def visible_to(self, membership: Membership | None) -> CertificateReportQuerySet:
        if membership is not None and membership.is_certifpro:
            return self.all()
        return self.none()


class CertificateReport(models.Model):
    """Certif'Pro reported this certificate to the Caisse des Dépôts on that day, marked by hand before the flux
    (CdcFlux) existed. Kept for those certificates, which count as declared; nothing writes it any more."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="certificate_reports",
        verbose_name=_("organisme évaluateur"),
    )
    certificate = models.OneToOneField(
        "juries.Certificate", on_delete=models.PROTECT, related_name="cdc_report", verbose_name=_("certificat")
    )
    reported_on = models.DateField(_("déclaré le"))
    reported_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("déclaré par")
    )
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    objects = CertificateReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("déclaration à la Caisse des Dépôts")
        verbose_name_plural = _("déclarations à la Caisse des Dépôts")
        ordering = ["-reported_on", "-id"]

    def __str__(self) -> str:
        return f"{self.certificate_id} ({self.reported_on:%d/%m/%Y})"


# -- The flux to the Caisse des Dépôts ("accrochage certificateurs", funding/cdc.py) -------------------------------


# The flux schema's Identifiant type: an identifier the schema would refuse is refused when typed in the admin.
cdc_identifier = RegexValidator(
    IDENTIFIER_RE,
    _("Lettres sans accent, chiffres, « _ » et « - » seulement, 50 caractères au plus, sans espace."),
)


class CdcSettings(models.Model):
    """Certif'Pro's identifiers at the Caisse des Dépôts and each certification's code at France Compétences'
    specific register (RS): one row (pk 1), kept in the admin. The defaults are the demo's, to be confirmed."""

    client_id = models.CharField(
        _("identifiant client (idClient)"),
        max_length=50,
        validators=[cdc_identifier],
        default="03CLEA00",
        help_text=_("Attribué par la Caisse des Dépôts au certificateur. Valeur de démonstration, à confirmer."),
    )
    contract_id = models.CharField(
        _("identifiant du contrat (idContrat)"),
        max_length=50,
        validators=[cdc_identifier],
        default="MCFCER000000",
        help_text=_("Attribué par la Caisse des Dépôts. Valeur de démonstration, à confirmer."),
    )
    code_clea = models.CharField(
        _("code RS de CléA"),
        max_length=20,
        validators=[cdc_identifier],
        default="RS5080",
        help_text=_("Code au Répertoire spécifique, à confirmer."),
    )
    code_clea_numerique = models.CharField(
        _("code RS de CléA numérique"),
        max_length=20,
        validators=[cdc_identifier],
        default="RS5436",
        help_text=_("Code au Répertoire spécifique, à confirmer."),
    )
    code_clea_management = models.CharField(
        _("code RS de CléA management"),
        max_length=20,
        validators=[cdc_identifier],
        default="RS6331",
        help_text=_("Code au Répertoire spécifique, à confirmer."),
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("paramètres de la Caisse des Dépôts")
        verbose_name_plural = _("paramètres de la Caisse des Dépôts")

    def __str__(self) -> str:
        return str(_("Paramètres de la Caisse des Dépôts"))

    @classmethod
    def current(cls) -> CdcSettings:
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings

    def rs_code(self, certification: str) -> str:
        return {
            Certification.CLEA: self.code_clea,
            Certification.CLEA_NUMERIQUE: self.code_clea_numerique,
            Certification.CLEA_MANAGEMENT: self.code_clea_management,
        }[Certification(certification)]


class CdcFluxQuerySet(models.QuerySet["CdcFlux"]):
    def visible_to(self, membership: Membership | None) -> CdcFluxQuerySet:
        if membership is not None and membership.is_certifpro:
            return self.all()
        return self.none()


class CdcFlux(models.Model):
    """One flux sent to the Caisse des Dépôts: numbered, written once with its SHA-256. Its XML is a pure function of
    this row and its declarations (funding/cdc.py, flux_render), which snapshot what was declared: rendering them
    again gives the same bytes."""

    number = models.PositiveIntegerField(_("numéro"), unique=True)
    generated_at = models.DateTimeField(_("horodatage"))
    client_id = models.CharField(_("identifiant client"), max_length=50)
    contract_id = models.CharField(_("identifiant du contrat"), max_length=50)
    file = models.FileField(_("fichier XML"), upload_to="caisse-des-depots/flux/%Y/")
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    generated_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("produit par")
    )

    objects = CdcFluxQuerySet.as_manager()

    class Meta:
        verbose_name = _("flux vers la Caisse des Dépôts")
        verbose_name_plural = _("flux vers la Caisse des Dépôts")
        ordering = ["-number"]

    def __str__(self) -> str:
        return self.flux_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and CdcFlux.objects.filter(pk=self.pk).exists():
            raise PermissionError("A flux sent to the Caisse des Dépôts is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("A flux sent to the Caisse des Dépôts is immutable.")

    @property
    def flux_id(self) -> str:
        return f"CLEA-CDC-{self.number:06d}"

    @property
    def filename(self) -> str:
        return f"{self.flux_id}.xml"


class DeclarationKind(models.TextChoices):
    AWARD = "award", _("Obtention")
    WITHDRAWAL = "withdrawal", _("Retrait (certificat révoqué)")


class DeclarationStatus(models.TextChoices):
    SENT = "sent", _("Transmise")
    ACCEPTED = "accepted", _("Acceptée")
    REJECTED = "rejected", _("Rejetée")


class CdcDeclarationQuerySet(models.QuerySet["CdcDeclaration"]):
    def visible_to(self, membership: Membership | None) -> CdcDeclarationQuerySet:
        if membership is not None and membership.is_certifpro:
            return self.all()
        return self.none()

    def standing(self) -> CdcDeclarationQuerySet:
        """Those that count as made: sent and awaiting the report, or accepted. A rejected one is made again."""
        return self.exclude(status=DeclarationStatus.REJECTED)


class CdcDeclaration(models.Model):
    """One certificate in one flux (a passageCertification), with a snapshot of everything the XML says of it. The
    snapshot never changes; only the Caisse's report sets its status and reason."""

    tenant_path = "certificate__organisation"

    flux = models.ForeignKey(CdcFlux, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("flux"))
    certificate = models.ForeignKey(
        "juries.Certificate",
        on_delete=models.PROTECT,
        related_name="cdc_declarations",
        verbose_name=_("certificat"),
    )
    kind = models.CharField(_("nature"), max_length=12, choices=DeclarationKind.choices)
    # The snapshot, in the XML's order.
    technical_id = models.CharField(_("identifiant technique"), max_length=50)
    certification_code = models.CharField(_("code RS"), max_length=20)
    valid_from = models.DateField(_("début de validité"))
    valid_until = models.DateField(_("fin de validité"), null=True, blank=True)
    birth_name = models.CharField(_("nom de naissance"), max_length=150)
    usual_name = models.CharField(_("nom d'usage"), max_length=150, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1)
    birth_insee_code = models.CharField(_("code INSEE du lieu de naissance"), max_length=5)
    birth_place = models.CharField(_("lieu de naissance"), max_length=150)
    # The Caisse's answer.
    status = models.CharField(
        _("statut"), max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.SENT
    )
    rejection_reason = models.CharField(_("motif du rejet"), max_length=500, blank=True)
    processed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)

    objects = CdcDeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = _("déclaration à la Caisse des Dépôts")
        verbose_name_plural = _("déclarations à la Caisse des Dépôts")
        ordering = ["flux_id", "id"]
        constraints = [
            # A certificate is declared once (and withdrawn once): again only after the Caisse rejected it.
            models.UniqueConstraint(
                fields=["certificate", "kind"],
                condition=~models.Q(status="rejected"),
                name="cdc_declaration_once",
            ),
            models.UniqueConstraint(fields=["flux", "technical_id"], name="cdc_declaration_technical_id"),
        ]

    def __str__(self) -> str:
        return f"{self.technical_id} ({self.get_kind_display()})"


class CdcReportImport(models.Model):
    """A processing report of the Caisse imported back: the file as received, its SHA-256 and what it said."""

    flux = models.ForeignKey(CdcFlux, on_delete=models.PROTECT, related_name="reports", verbose_name=_("flux"))
    file = models.FileField(_("fichier"), upload_to="caisse-des-depots/comptes-rendus/%Y/")
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    accepted = models.PositiveIntegerField(_("acceptées"))
    rejected = models.PositiveIntegerField(_("rejetées"))
    imported_at = models.DateTimeField(_("importé le"), auto_now_add=True)
    imported_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("importé par")
    )

    class Meta:
        verbose_name = _("compte rendu de la Caisse des Dépôts")
        verbose_name_plural = _("comptes rendus de la Caisse des Dépôts")
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["flux", "sha256"], name="cdc_report_once")]

    def __str__(self) -> str:
        return f"{self.flux} ({self.imported_at:%d/%m/%Y})"
