"""The move of the commune table and the directory sheets from `organisations` to `directory` keeps their rows,
their constraints and their content types (the audit log points at a sheet through its content type)."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction

from directory.models import Commune, CommunePostcode, DirectorySheet
from organisations.models import AuditLog
from tests.migrations_support import migrated_to

BEFORE_THE_MOVE = ("organisations", "0003_api_tokens")
MOVED = ["commune", "communepostcode", "directorysheet"]


@pytest.mark.django_db(transaction=True)
def test_moving_the_directory_models_keeps_their_rows_constraints_and_content_types():
    # Leaving the block migrates to the latest state: the move under test.
    with migrated_to([BEFORE_THE_MOVE, ("directory", None)]) as old:
        assert "directory_commune" not in connection.introspection.table_names()

        organisation = old.get_model("organisations", "Organisation").objects.create(
            name="Agence France Travail Lille", kind="france_travail", siret="13000548100010", region="32"
        )
        user = old.get_model("organisations", "User").objects.create(
            email="conseiller@agence.example", first_name="Nadia", last_name="Benali", password="!"
        )
        commune = old.get_model("organisations", "Commune").objects.create(
            insee_code="59350",
            name="Lille",
            name_folded="lille",
            departement="59",
            departement_name="Nord",
            region="32",
            region_name="Hauts-de-France",
            postcodes="59000 59800",
            population=236234,
            latitude=50.63297,
            longitude=3.05858,
        )
        old.get_model("organisations", "CommunePostcode").objects.create(commune=commune, postcode="59800")
        sheet = old.get_model("organisations", "DirectorySheet").objects.create(
            organisation=organisation,
            requested_by=user,
            requested_on=datetime.date(2026, 11, 2),
            scope="radius",
            commune_insee="59350",
            radius_km=20,
            place_label="à moins de 20 km de Lille (59)",
            certification="clea",
            params_key="commune:59350:20|cert:clea|pmr:0|remote:0",
            status="ready",
            file="directory_sheets/2026/evaluateurs-lille.pdf",
            sha256="ab" * 32,
            site_count=3,
        )
        OldContentType = old.get_model("contenttypes", "ContentType")
        old_types = {
            model: OldContentType.objects.get_or_create(app_label="organisations", model=model)[0].pk for model in MOVED
        }
        # A row under the new label too, as post_migrate leaves it when `migrate` ran with the new code before
        # these migrations: the old row, which the audit log points at, must win.
        OldContentType.objects.get_or_create(app_label="directory", model="directorysheet")
        old.get_model("organisations", "AuditLog").objects.create(
            action="directory_sheet.request",
            actor=user,
            organisation=organisation,
            object_type_id=old_types["directorysheet"],
            object_id=str(sheet.pk),
            object_repr="à moins de 20 km de Lille (59) (02/11/2026)",
        )

    tables = connection.introspection.table_names()
    assert {"directory_commune", "directory_communepostcode", "directory_directorysheet"} <= set(tables)
    assert not {"organisations_commune", "organisations_communepostcode", "organisations_directorysheet"} & set(tables)

    lille = Commune.objects.get(insee_code="59350")
    assert (lille.name, lille.departement_name, lille.population) == ("Lille", "Nord", 236234)
    assert (lille.latitude, lille.longitude) == (50.63297, 3.05858)
    assert lille.postcode_list == ["59000", "59800"]
    assert list(lille.postcode_rows.values_list("postcode", flat=True)) == ["59800"]
    assert Commune.objects.search("59800") == [lille]

    moved = DirectorySheet.objects.get(pk=sheet.pk)
    assert (moved.organisation_id, moved.requested_by_id) == (organisation.pk, user.pk)
    assert moved.requested_on == datetime.date(2026, 11, 2)
    assert (moved.scope, moved.commune_insee, moved.radius_km) == ("radius", "59350", 20)
    assert moved.certification == "clea"
    assert (moved.status, moved.site_count, moved.sha256) == ("ready", 3, "ab" * 32)
    assert moved.file.name == "directory_sheets/2026/evaluateurs-lille.pdf"

    # The content types kept their ids, so the audit log still finds the sheet's history.
    assert not ContentType.objects.filter(app_label="organisations", model__in=MOVED).exists()
    for model, pk in old_types.items():
        assert ContentType.objects.get(app_label="directory", model=model).pk == pk
    rows = AuditLog.objects.filter(object_type=ContentType.objects.get_for_model(moved), object_id=str(moved.pk))
    assert list(rows.values_list("action", flat=True)) == ["directory_sheet.request"]

    # The renamed tables go on numbering their rows, and their constraints still hold.
    CommunePostcode.objects.create(commune=lille, postcode="59000")
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunePostcode.objects.create(commune=lille, postcode="59000")
    with pytest.raises(IntegrityError), transaction.atomic():
        DirectorySheet.objects.create(
            organisation_id=organisation.pk,
            requested_by_id=user.pk,
            requested_on=moved.requested_on,
            params_key=moved.params_key,
            scope="radius",
            place_label=moved.place_label,
        )
