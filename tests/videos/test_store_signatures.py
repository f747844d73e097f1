"""The local store checks signatures as S3 does (bin/s3_gate.py in front of moto).

A presigned PUT is only good for the length and type it was signed for, anonymous
requests see nothing, and a wrong signature is refused: so a change that breaks the
application's signing fails here instead of in production.
"""

import datetime
import uuid
from unittest import mock

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from django.conf import settings

from tests.helpers.stack import REPO
from tests.helpers.videos import bucket_keys, start_upload
from tiktok.storage import s3_client

pytestmark = pytest.mark.django_db

RUN = f"signature-test-{uuid.uuid4().hex}"  # the test bucket outlives a run: keys of this run only
BUCKET_URL = f"{settings.AWS_S3_ENDPOINT_URL}/{settings.AWS_STORAGE_BUCKET_NAME}"


def client_with(**overrides):
    options = {
        "endpoint_url": settings.AWS_S3_ENDPOINT_URL,
        "aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
        "region_name": settings.AWS_S3_REGION_NAME,
        "config": Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    }
    return boto3.client("s3", **{**options, **overrides})


def new_upload(auth_client, size: int, content_type: str = "video/mp4") -> tuple[dict, str]:
    response = start_upload(auth_client, size_bytes=size, content_type=content_type)
    assert response.status_code == 201, response.content
    upload = response.json()["upload"]
    key = requests.utils.urlparse(upload["url"]).path.split("/", 2)[2]
    assert key.startswith("originals/")
    return upload, key


def assert_refused(response, code: str):
    assert response.status_code == 403, response.text
    assert f"<Code>{code}</Code>" in response.text


def test_a_presigned_put_stores_exactly_what_was_signed(auth_client):
    body = b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000
    upload, key = new_upload(auth_client, len(body))

    response = requests.put(upload["url"], data=body, headers=upload["headers"], timeout=10)

    assert response.status_code == 200, response.text
    stored = s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)
    assert stored["Body"].read() == body
    assert stored["ContentType"] == "video/mp4"


@pytest.mark.parametrize("size", [999, 1001, 50_000])
def test_a_presigned_put_of_another_length_is_refused_and_stores_nothing(auth_client, size):
    upload, key = new_upload(auth_client, 1000)

    response = requests.put(upload["url"], data=b"x" * size, headers=upload["headers"], timeout=10)

    assert_refused(response, "SignatureDoesNotMatch")
    assert bucket_keys(key) == []


def test_a_presigned_put_of_another_content_type_is_refused_and_stores_nothing(auth_client):
    upload, key = new_upload(auth_client, 1000)

    for content_type in ("text/html", "video/quicktime", None):
        headers = {**upload["headers"], "Content-Type": content_type} if content_type else {}
        response = requests.put(upload["url"], data=b"x" * 1000, headers=headers, timeout=10)
        assert_refused(response, "SignatureDoesNotMatch")
    assert bucket_keys(key) == []


def test_a_presigned_url_for_one_key_does_not_write_another(auth_client):
    upload, key = new_upload(auth_client, 10)
    other_key = key[:-4] + "evil"

    response = requests.put(
        upload["url"].replace(key, other_key), data=b"x" * 10, headers=upload["headers"], timeout=10
    )

    assert_refused(response, "SignatureDoesNotMatch")
    assert bucket_keys(other_key) == [] and bucket_keys(key) == []


def test_an_altered_or_expired_presigned_get_is_refused():
    key = f"processed/{RUN}/object.txt"
    s3_client().put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=b"secret")
    url = s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key}, ExpiresIn=300
    )
    assert requests.get(url, timeout=10).content == b"secret"

    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    tampered = url.replace(signature, signature[::-1])
    assert_refused(requests.get(tampered, timeout=10), "SignatureDoesNotMatch")
    longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000")
    assert_refused(requests.get(longer, timeout=10), "SignatureDoesNotMatch")

    two_hours_ago = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=2)
    with mock.patch("botocore.auth.get_current_datetime", return_value=two_hours_ago):
        expired = client_with().generate_presigned_url(
            "get_object", Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key}, ExpiresIn=3600
        )
    assert_refused(requests.get(expired, timeout=10), "AccessDenied")


def test_anonymous_requests_see_nothing():
    key = f"processed/{RUN}/anonymous.txt"
    s3_client().put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=b"private")

    for response in (
        requests.get(f"{BUCKET_URL}/?list-type=2", timeout=10),
        requests.get(f"{BUCKET_URL}/", timeout=10),
        requests.get(f"{BUCKET_URL}/{key}", timeout=10),
        requests.put(f"{BUCKET_URL}/originals/anonymous", data=b"x", timeout=10),
        requests.delete(f"{BUCKET_URL}/{key}", timeout=10),
    ):
        assert_refused(response, "AccessDenied")
        assert key not in response.text
    assert bucket_keys("originals/anonymous") == []
    assert bucket_keys(key) == [key]


def test_a_wrong_secret_or_unknown_key_is_refused():
    key = f"processed/{RUN}/wrong.txt"
    for client, code in (
        (client_with(aws_secret_access_key="not-the-secret"), "SignatureDoesNotMatch"),
        (client_with(aws_access_key_id="AKIAUNKNOWN"), "InvalidAccessKeyId"),
    ):
        with pytest.raises(ClientError) as listing:
            client.list_objects_v2(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
        assert listing.value.response["Error"]["Code"] == code
        with pytest.raises(ClientError) as writing:
            client.put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=b"x")
        assert writing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert bucket_keys(key) == []


def test_a_signed_body_cannot_be_swapped():
    key = f"processed/{RUN}/swapped.txt"
    signed = AWSRequest(method="PUT", url=f"{BUCKET_URL}/{key}", data=b"original")
    credentials = Credentials(settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY)
    S3SigV4Auth(credentials, "s3", settings.AWS_S3_REGION_NAME).add_auth(signed)
    headers = dict(signed.headers.items())
    assert headers["X-Amz-Content-SHA256"] != "UNSIGNED-PAYLOAD"

    response = requests.put(signed.url, data=b"swapped!", headers=headers, timeout=10)

    assert_refused(response, "XAmzContentSHA256Mismatch")
    assert bucket_keys(key) == []
    assert requests.put(signed.url, data=b"original", headers=headers, timeout=10).status_code == 200
    assert bucket_keys(key) == [key]


def test_the_cdn_origin_identity_only_reads_published_media():
    secret_file = REPO / ".stack" / "s3" / "origin-secret"
    if not secret_file.exists():
        pytest.skip("the store runs elsewhere (its origin identity lives in its own stack)")
    identity = {"Authorization": f"CdnOrigin {secret_file.read_text().strip()}"}
    wrong = {"Authorization": "CdnOrigin not-the-secret"}
    key = f"processed/{RUN}/origin.txt"
    for name in (key, f"originals/{RUN}/origin.txt"):
        s3_client().put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=name, Body=b"media")

    published = f"{BUCKET_URL}/{key}"
    assert requests.get(published, headers=identity, timeout=10).content == b"media"
    assert_refused(requests.get(published, headers=wrong, timeout=10), "AccessDenied")
    for response in (
        requests.get(f"{BUCKET_URL}/originals/{RUN}/origin.txt", headers=identity, timeout=10),
        requests.get(f"{BUCKET_URL}/?list-type=2", headers=identity, timeout=10),
        requests.put(published, data=b"defaced", headers=identity, timeout=10),
        requests.delete(published, headers=identity, timeout=10),
    ):
        assert_refused(response, "AccessDenied")
    stored = s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)
    assert stored["Body"].read() == b"media"
