"""Attestations issued before they had a verification code get one (evaluations/migrations/0005): schema before
the code, attestations without one, migration, a unique 10-character code each."""

import pytest

from clea_platform.verification import ATTESTATION_CODE_LENGTH, VERIFICATION_ALPHABET
from evaluations.models import Attestation
from tests.journey import DossierFactory
from tests.migrations_support import migrated_to

# The code's column exists, still empty and nullable: 0005 fills it, 0006 makes it required and unique.
BEFORE_FILL = ("evaluations", "0004_attestation_verification_code")


@pytest.mark.django_db(transaction=True)
def test_existing_attestations_get_a_unique_verification_code(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        dossiers = [DossierFactory(state="partially_validated") for _ in range(2)]
    numbers = {d.attestations.get().pk: d.attestations.get().number for d in dossiers}
    with migrated_to([BEFORE_FILL]) as old_apps:
        OldAttestation = old_apps.get_model("evaluations", "Attestation")
        OldAttestation.objects.update(verification_code=None)
        assert OldAttestation.objects.filter(verification_code=None).count() == 2

    codes = dict(Attestation.objects.values_list("pk", "verification_code"))
    assert set(codes) == set(numbers)
    assert len(set(codes.values())) == 2
    for code in codes.values():
        assert len(code) == ATTESTATION_CODE_LENGTH and set(code) <= set(VERIFICATION_ALPHABET)
    # Nothing else of the attestations changed.
    assert dict(Attestation.objects.values_list("pk", "number")) == numbers
