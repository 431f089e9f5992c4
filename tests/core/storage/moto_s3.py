"""A real S3-compatible endpoint on 127.0.0.1 for document storage tests (RECIPES.md section 4).

moto's ThreadedMotoServer speaks S3 and KMS over HTTP, so boto3 goes through its whole
stack (signing, retries, timeouts) exactly as against AWS. moto is not a security oracle: it
does not enforce presigned expiry or signatures, so those properties are tested in our code.

Import the fixtures into a test module: ``from tests.core.storage.moto_s3 import s3, moto_endpoint  # noqa: F401``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from core.storage import S3Storage, configure_storage, platform_storage

BUCKET = "council-documents"
REGION = "eu-west-2"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@contextlib.contextmanager
def moto_server() -> Iterator[tuple[ThreadedMotoServer, str]]:
    """A ThreadedMotoServer on a free port of 127.0.0.1 (port 0), stopped afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield server, f"http://{host}:{port}"
    finally:
        with contextlib.suppress(Exception):
            server.stop()


def clients(endpoint: str) -> tuple[Any, Any]:
    kw = {"endpoint_url": endpoint, "region_name": REGION, **CREDENTIALS}
    s3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}), **kw)
    return s3, boto3.client("kms", **kw)


@dataclass
class S3:
    endpoint: str
    client: Any  # a plain boto3 S3 client, to look behind our store
    key_id: str
    store: S3Storage
    server: ThreadedMotoServer


def prepare(server: ThreadedMotoServer, endpoint: str) -> S3:
    """Wipe the endpoint, make the bucket and the KMS key, and an S3Storage using them."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=5).raise_for_status()
    s3, kms = clients(endpoint)
    key_id = kms.create_key(Description="sendbridge documents")["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # Fail fast in the tests that stop the endpoint: one attempt, short timeouts.
    store = S3Storage(BUCKET, kms_key_id=key_id, region=REGION, endpoint_url=endpoint, path_style=True,
                      connect_timeout=1, read_timeout=2, max_attempts=1, **CREDENTIALS)
    return S3(endpoint=endpoint, client=s3, key_id=key_id, store=store, server=server)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[tuple[ThreadedMotoServer, str]]:
    with moto_server() as started:
        yield started


@pytest.fixture
def s3(app: Any, moto_endpoint: tuple[ThreadedMotoServer, str]) -> Iterator[S3]:
    """The platform's documents in S3 on the module's moto endpoint, reset for this test."""
    made = prepare(*moto_endpoint)
    previous = platform_storage()
    configure_storage(made.store)
    try:
        yield made
    finally:
        configure_storage(previous)


@pytest.fixture
def stoppable_s3(app: Any) -> Iterator[S3]:
    """Like ``s3``, on a throwaway endpoint of this test's own, which the test may stop
    (``stoppable_s3.server.stop()``): never the shared one (RECIPES.md section 11)."""
    with moto_server() as (server, endpoint):
        made = prepare(server, endpoint)
        previous = platform_storage()
        configure_storage(made.store)
        try:
            yield made
        finally:
            configure_storage(previous)


def objects(s3: S3, prefix: str = "") -> list[str]:
    answer = s3.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in answer.get("Contents", [])]
