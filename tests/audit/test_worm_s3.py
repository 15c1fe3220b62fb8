"""Checkpoints on S3: Object Lock COMPLIANCE with six years' retention (moto server mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from audit.chain import chain_integrate
from audit.checkpoints import checkpoint_write, worm_store
from audit.verify import chain_verify
from tests.audit.conftest import record_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def object_lock_bucket(moto_s3_endpoint, settings, tmp_path):
    bucket = f"audit-worm-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    settings.AWS_ENDPOINT_URL = moto_s3_endpoint
    settings.AWS_REGION = "us-east-1"
    settings.AUDIT_WORM_BACKEND = "s3"
    settings.AUDIT_WORM_BUCKET = bucket
    settings.AUDIT_CHECKPOINT_KEY_FILE = tmp_path / "audit-checkpoint.key"
    return s3, bucket


def test_checkpoint_object_is_locked_in_compliance_mode_for_six_years(object_lock_bucket, settings):
    s3, bucket = object_lock_bucket
    record_events(3)
    chain_integrate()
    checkpoint = checkpoint_write()

    key = f"{settings.AUDIT_WORM_PREFIX}{checkpoint.seq:020d}.checkpoint"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    expected = datetime.now(tz=UTC) + timedelta(days=settings.AUDIT_WORM_RETENTION_DAYS)
    assert abs(head["ObjectLockRetainUntilDate"] - expected) < timedelta(minutes=5)
    assert expected - datetime.now(tz=UTC) >= timedelta(days=6 * 365)


def test_locked_checkpoint_cannot_be_deleted_and_verifies(object_lock_bucket, settings):
    s3, bucket = object_lock_bucket
    record_events(2)
    chain_integrate()
    checkpoint = checkpoint_write()
    chain_integrate()
    key = f"{settings.AUDIT_WORM_PREFIX}{checkpoint.seq:020d}.checkpoint"
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(
        s3.exceptions.ClientError, match=r"AccessDenied|locked|Object Lock|retention"
    ):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert worm_store().names() == [f"{checkpoint.seq:020d}.checkpoint"]
    result = chain_verify()
    assert result.ok, result.failure
    assert result.checkpoints == 1
