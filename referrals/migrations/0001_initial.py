"""Referrals come from candidates with their table (candidates/migrations/0007_move_referral_to_referrals.py
renames it): the state gains the model, the database is already right.

The content type moves with them, the same row relabelled, so the audit log's entries about referrals (which
point at it and are never edited) and the permissions keep pointing at the referrals."""

import django.db.models.deletion
import django.utils.timezone
import django_fsm
import organisations.validators
from django.conf import settings
from django.db import migrations, models


def relabel_content_type(apps, schema_editor, *, from_app: str, to_app: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    AuditLog = apps.get_model("organisations", "AuditLog")
    db = schema_editor.connection.alias
    moving = ContentType.objects.using(db).filter(app_label=from_app, model="referral").first()
    if moving is None:  # a fresh database: post_migrate creates referrals' own at the end of `migrate`
        return
    existing = ContentType.objects.using(db).filter(app_label=to_app, model="referral").first()
    if existing is not None:
        # Created under the new label by a `migrate` run in between: the old row, which the audit log and the
        # granted permissions point at, wins.
        AuditLog.objects.using(db).filter(object_type=existing).update(object_type=moving)
        Permission.objects.using(db).filter(content_type=existing).delete()
        existing.delete()
    moving.app_label = to_app
    moving.save(update_fields=["app_label"])


def content_type_to_referrals(apps, schema_editor) -> None:
    relabel_content_type(apps, schema_editor, from_app="candidates", to_app="referrals")


def content_type_to_candidates(apps, schema_editor) -> None:
    relabel_content_type(apps, schema_editor, from_app="referrals", to_app="candidates")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('candidates', '0007_move_referral_to_referrals'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('organisations', '0002_communes_directory_sheets_site_availability'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Referral',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('certification', models.CharField(choices=[('clea', 'CléA'), ('clea_numerique', 'CléA numérique'), ('clea_management', 'CléA management')], max_length=20, verbose_name='certification visée')),
                        ('civility', models.CharField(choices=[('mme', 'Madame'), ('m', 'Monsieur')], max_length=3, verbose_name='civilité')),
                        ('first_name', models.CharField(max_length=150, verbose_name='prénom')),
                        ('last_name', models.CharField(max_length=150, verbose_name="nom d'usage")),
                        ('birth_date', models.DateField(verbose_name='date de naissance')),
                        ('birth_place', models.CharField(blank=True, max_length=150, verbose_name='lieu de naissance')),
                        ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                        ('phone', models.CharField(blank=True, max_length=20, verbose_name='téléphone')),
                        ('postcode', models.CharField(blank=True, max_length=5, validators=[organisations.validators.validate_postcode], verbose_name='code postal')),
                        ('city', models.CharField(blank=True, max_length=120, verbose_name='commune')),
                        ('education_level', models.CharField(blank=True, choices=[('none', 'Sans diplôme'), ('3', 'Niveau 3 (CAP, BEP)'), ('4', 'Niveau 4 (baccalauréat)'), ('5', 'Niveau 5 (bac + 2)'), ('6', 'Niveau 6 ou plus')], max_length=4, verbose_name='niveau de formation')),
                        ('note', models.TextField(blank=True, verbose_name="note pour l'organisme")),
                        ('consent_at', models.DateTimeField(verbose_name='consentement recueilli le')),
                        ('consent_text', models.TextField(verbose_name='texte présenté à la personne')),
                        ('state', django_fsm.FSMField(choices=[('sent', 'Envoyée, en attente de réponse'), ('accepted', 'Acceptée'), ('declined', 'Déclinée'), ('expired', 'Expirée sans réponse')], db_index=True, default='sent', max_length=50, protected=True, verbose_name='état')),
                        ('sent_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='envoyée le')),
                        ('answered_at', models.DateTimeField(blank=True, null=True, verbose_name='réponse le')),
                        ('decline_reason', models.TextField(blank=True, verbose_name='motif du refus')),
                        ('advisor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='conseiller·ère France Travail')),
                        ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='réponse de')),
                        ('dossier', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='candidates.dossier', verbose_name='dossier ouvert')),
                        ('from_organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals_sent', to='organisations.organisation', verbose_name='agence France Travail')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals_received', to='organisations.organisation', verbose_name='organisme évaluateur')),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='organisations.site', verbose_name='site')),
                    ],
                    options={
                        'verbose_name': 'orientation France Travail',
                        'verbose_name_plural': 'orientations France Travail',
                        'ordering': ['-sent_at', '-id'],
                        'indexes': [models.Index(fields=['organisation', 'state', '-sent_at'], name='referral_received_idx'), models.Index(fields=['from_organisation', '-sent_at'], name='referral_sent_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('state', 'accepted'), _negated=True), ('dossier__isnull', False), _connector='OR'), name='referral_accepted_has_dossier'), models.UniqueConstraint(condition=models.Q(('dossier__isnull', False)), fields=('dossier',), name='referral_one_per_dossier')],
                    },
                    bases=(django_fsm.ConcurrentTransitionMixin, models.Model),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_referrals, content_type_to_candidates),
    ]
