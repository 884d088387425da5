"""Side effects as rows: each document to render and each e-mail to send is written in the transaction that
promises it, so a lost message, a dead worker or a broker restart delays it and never loses it (issue 13)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation, Role, TenantQuerySet
from outbox import registry


class SideEffectState(models.TextChoices):
    PENDING = "pending", _("En attente")
    DONE = "done", _("Fait")
    FAILED = "failed", _("En échec")


class SideEffectQuerySet(TenantQuerySet):
    # Operators: Certif'Pro sees every organisation's, an organisation's administrator its own.
    organisation_roles = frozenset({Role.ORG_ADMIN})

    def due(self) -> SideEffectQuerySet:
        """Pending and past their backoff."""
        return self.filter(state=SideEffectState.PENDING, available_at__lte=timezone.now())

    def needs_attention(self) -> SideEffectQuerySet:
        """What an operator should look at: the failed ones first (they wait for a retry), then the pending ones
        due for longer than `overdue_after()` (no worker takes their queue, or every run dies before it records
        anything); the newest first within each."""
        late = timezone.now() - overdue_after()
        return self.filter(
            Q(state=SideEffectState.FAILED) | Q(state=SideEffectState.PENDING, available_at__lte=late)
        ).order_by(Case(When(state=SideEffectState.FAILED, then=Value(0)), default=Value(1)), "-created_at", "-pk")

    def counts(self) -> dict[str, int]:
        """How many are failed, pending, and overdue among the pending, in one query."""
        late = timezone.now() - overdue_after()
        pending = Q(state=SideEffectState.PENDING)
        counts = self.aggregate(
            failed=Count("pk", filter=Q(state=SideEffectState.FAILED)),
            pending=Count("pk", filter=pending),
            overdue=Count("pk", filter=pending & Q(available_at__lte=late)),
        )
        return {key: value or 0 for key, value in counts.items()}


def overdue_after() -> datetime.timedelta:
    """How long a due side effect may stay pending before it is late: a lost message is queued again within
    SIDE_EFFECT_REQUEUE_AFTER plus the minute of the beat job, and the longest task (a PDF) then runs for at most
    LONG_TASK_TIME_LIMIT. With the defaults: 2 + 1 + 5 = 8 minutes."""
    beat = settings.CELERY_BEAT_SCHEDULE["outbox-requeue"]["schedule"]
    return datetime.timedelta(seconds=settings.SIDE_EFFECT_REQUEUE_AFTER + beat + settings.LONG_TASK_TIME_LIMIT)


class SideEffect(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Celle que l'effet sert ; vide pour un effet national."),
    )
    kind = models.CharField(_("nature"), max_length=40)
    # What it produces, unique: asking twice for the same document gives one row (and one document).
    key = models.CharField(_("clé"), max_length=200, unique=True)
    label = models.CharField(_("objet"), max_length=200)
    arguments = models.JSONField(_("paramètres"), default=dict, blank=True)
    state = models.CharField(_("état"), max_length=10, choices=SideEffectState.choices, default=SideEffectState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    result = models.CharField(_("résultat"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    # Not run before this instant (the backoff after a failure).
    available_at = models.DateTimeField(_("à reprendre après"), default=timezone.now)
    # Last time a message was queued for it: the re-queueing job leaves recently queued rows alone.
    dispatched_at = models.DateTimeField(_("dernier envoi à la file"), default=timezone.now)
    # Set while a worker produces it: the re-queueing job leaves it to that worker.
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    done_at = models.DateTimeField(_("fait le"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SideEffectQuerySet.as_manager()

    class Meta:
        verbose_name = _("effet différé")
        verbose_name_plural = _("effets différés")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The re-queueing job's scan, and the operators' page (pending and failed, newest first).
            models.Index(fields=["state", "available_at"], name="outbox_state_available"),
            models.Index(fields=["organisation", "state", "-created_at"], name="outbox_org_state_created"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def kind_label(self) -> str:
        """The kind's French name; its code when no installed app registers it any more."""
        try:
            return str(registry.get(self.kind).label)
        except LookupError:
            return self.kind

    @property
    def is_retryable(self) -> bool:
        return self.state != SideEffectState.DONE

    @property
    def is_overdue(self) -> bool:
        return self.state == SideEffectState.PENDING and self.available_at <= timezone.now() - overdue_after()

    @property
    def is_waiting(self) -> bool:
        """Pending and waiting for its backoff after a failed attempt."""
        return self.state == SideEffectState.PENDING and self.available_at > timezone.now()


class DocumentVersionQuerySet(TenantQuerySet):
    # Operators, like the side effects: Certif'Pro every organisation's, an organisation's administrator its own.
    organisation_roles = frozenset({Role.ORG_ADMIN})

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Earlier versions of documents are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Earlier versions of documents are append-only.")

    def files_erase(self, *, now: datetime.datetime) -> list[str]:
        """The one change an earlier version admits: past the retention of the personal data its file holds
        (privacy.services), the file's name is blanked and `erased_at` set; the row (what was replaced, when, by
        whom, why, its SHA-256) stays. Returns the names of the files, which the caller deletes once its
        transaction commits (were that lost, the orphan collector removes them: no row names them any more).
        Idempotent: erased versions are left alone."""
        pending = self.filter(erased_at__isnull=True)
        names = [name for name in pending.values_list("file", flat=True) if name]
        models.QuerySet.update(pending, file="", erased_at=now)
        return names


class DocumentVersion(models.Model):
    """An earlier file of a produced document, replaced by a new rendering (issue 13: « régénérer » keeps the
    earlier version). Written in the transaction that points the document at its new file, never edited.

    The file stays where it was stored (no copy): this row names it, so the orphan collector, which walks every
    FileField (clea_platform.documents), keeps it, and the backup's check (clea_platform.backup) verifies it
    against `sha256`, named after `file` for that reason. No `upload_to`: nothing is ever uploaded through this
    field, and an empty one gives the collector no directory of its own to walk."""

    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("type de document"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("identifiant du document"))
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    # The document's FileField that held the file ("file", or "csv_file", "pdf_file"... for a batch).
    field = models.CharField(_("champ"), max_length=40)
    file = models.FileField(_("fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    # One regeneration replaces every file of its document (a batch's CSV, XLSX and PDF) under one identifier,
    # which is also what makes running its side effect twice harmless.
    regeneration = models.UUIDField(_("régénération"), db_index=True)
    replaced_at = models.DateTimeField(_("remplacé le"), default=timezone.now)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("remplacé à la demande de"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("motif"))
    # Its file deleted past the retention of the personal data it held (DocumentVersionQuerySet.files_erase).
    erased_at = models.DateTimeField(_("fichier supprimé le"), null=True, blank=True, editable=False)

    objects = DocumentVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("version antérieure d'un document")
        verbose_name_plural = _("versions antérieures des documents")
        ordering = ["-replaced_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="outbox_version_document")]
        constraints = [
            models.UniqueConstraint(fields=["regeneration", "field"], name="outbox_version_one_per_field"),
        ]

    def __str__(self) -> str:
        return self.file.name or ""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Earlier versions of documents are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Earlier versions of documents are append-only.")

    @property
    def extension(self) -> str:
        """The file's extension, as a link to it says it: "PDF", "CSV", "XLSX"."""
        return (self.file.name or "").rpartition(".")[2].upper()
