"""The local S3 store (bin/stack, service `s3`): moto's S3 API behind a SigV4 check.

moto_server answers anonymous requests and never checks a signature (its IAM mode checks
Authorization headers only, not presigned URLs), so a broken signature, or a client that
PUTs another length or type than the presigned URL allows, would pass unnoticed locally.
This server runs moto's own WSGI application in-process and, before handing a request to
it, recomputes the signature with botocore's SigV4 signer, the way S3 does:

* ``Authorization: AWS4-HMAC-SHA256 ...`` (SDK calls): the signed headers as received, the
  payload hash from ``X-Amz-Content-SHA256`` and, when that is a hash, the body's own.
* presigned URLs (``X-Amz-Signature`` in the query): the signed headers as received (so a
  signed Content-Length or Content-Type that differs is refused), and the expiry.
* ``Authorization: CdnOrigin <secret>`` (the CDN stand-in's origin access identity): GET
  and HEAD of ``processed/`` and ``avatars/`` objects only.
* CORS preflights (OPTIONS) pass unauthenticated, as on S3.

Anything else gets 403 in S3's XML error shape. The key pairs come from
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, the CDN's secret from ``S3_ORIGIN_SECRET``.

Usage: s3_gate.py HOST PORT
"""

import datetime
import hashlib
import hmac
import io
import os
import re
import sys
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

UNHASHED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-")
ORIGIN_READABLE = re.compile(r"^/[^/]+/(?:processed|avatars)/[^?]+$")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def _fields(value):
    """``Credential=a/b, SignedHeaders=x;y, Signature=z`` -> dict."""
    return dict(part.strip().split("=", 1) for part in value.split(",") if "=" in part)


def _headers(environ):
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _amz_time(value):
    try:
        return datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        raise Refused("AccessDenied", "X-Amz-Date is missing or malformed.") from None


class SignatureGate:
    def __init__(self, app, keys, origin_secret):
        self.app, self.keys, self.origin_secret = app, keys, origin_secret

    def __call__(self, environ, start_response):
        try:
            self.check(environ)
        except Refused as refused:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{refused.code}</Code><Message>{refused.message}</Message></Error>"
            ).encode()
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        return self.app(environ, start_response)

    def check(self, environ):
        method = environ["REQUEST_METHOD"]
        headers = _headers(environ)
        query = environ.get("QUERY_STRING", "")
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        raw_path = raw_path.split("?", 1)[0]
        authorization = headers.get("authorization", "")
        if method == "OPTIONS":
            return
        if self.origin_secret and authorization.startswith("CdnOrigin "):
            secret = authorization[len("CdnOrigin ") :]
            if (
                hmac.compare_digest(secret.encode(), self.origin_secret.encode())
                and method in ("GET", "HEAD")
                and not query
                and ORIGIN_READABLE.match(raw_path)
            ):
                return
            raise Refused("AccessDenied", "The origin identity may only read processed media and avatars.")
        if authorization.startswith("AWS4-HMAC-SHA256 "):
            fields = _fields(authorization[len("AWS4-HMAC-SHA256 ") :])
            signed = fields.get("SignedHeaders", "")
            signature = fields.get("Signature", "")
            timestamp = headers.get("x-amz-date", "")
            if abs(datetime.datetime.now(datetime.UTC) - _amz_time(timestamp)) > MAX_CLOCK_SKEW:
                raise Refused("RequestTimeTooSkewed", "The request time is too far from the server's time.")
            payload_hash = headers.get("x-amz-content-sha256")
            if not payload_hash:
                raise Refused("InvalidRequest", "Missing required header for this request: x-amz-content-sha256.")
            if not payload_hash.startswith(UNHASHED_PAYLOADS):
                body = self._read_body(environ)
                if hashlib.sha256(body).hexdigest() != payload_hash:
                    raise Refused("XAmzContentSHA256Mismatch", "The body does not match x-amz-content-sha256.")
            url = f"http://{headers.get('host', '')}{raw_path}{'?' + query if query else ''}"
            auth_cls = S3SigV4Auth
        elif "X-Amz-Signature=" in query:
            params = dict(parse_qsl(query, keep_blank_values=True))
            if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                raise Refused("AuthorizationQueryParametersError", "Only AWS4-HMAC-SHA256 is supported.")
            fields = {"Credential": params.get("X-Amz-Credential", "")}
            signed = params.get("X-Amz-SignedHeaders", "")
            signature = params.get("X-Amz-Signature", "")
            timestamp = params.get("X-Amz-Date", "")
            try:
                expires = int(params.get("X-Amz-Expires", ""))
            except ValueError:
                raise Refused("AuthorizationQueryParametersError", "X-Amz-Expires is missing.") from None
            if not 0 < expires <= MAX_PRESIGN_SECONDS:
                raise Refused("AuthorizationQueryParametersError", "X-Amz-Expires is out of range.")
            if datetime.datetime.now(datetime.UTC) > _amz_time(timestamp) + datetime.timedelta(seconds=expires):
                raise Refused("AccessDenied", "Request has expired")
            unsigned_query = "&".join(part for part in query.split("&") if not part.startswith("X-Amz-Signature="))
            url = f"http://{headers.get('host', '')}{raw_path}?{unsigned_query}"
            auth_cls = S3SigV4QueryAuth
        else:
            raise Refused("AccessDenied", "Access Denied (anonymous requests are refused).")

        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[4] != "aws4_request" or scope[3] != "s3":
            raise Refused("AuthorizationHeaderMalformed", "The credential scope is malformed.")
        access_key, date, region = scope[0], scope[1], scope[2]
        if access_key not in self.keys:
            raise Refused("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        if date != timestamp[:8]:
            raise Refused("AuthorizationHeaderMalformed", "The credential date does not match X-Amz-Date.")
        names = signed.split(";")
        if "host" not in names:
            raise Refused("AccessDenied", "The host header must be signed.")
        missing = [name for name in names if name not in headers]
        if missing:
            raise Refused("SignatureDoesNotMatch", f"Signed headers are missing: {', '.join(missing)}.")
        request = AWSRequest(method=method, url=url, headers={name: headers[name] for name in names})
        request.context["timestamp"] = timestamp
        auth = auth_cls(Credentials(access_key, self.keys[access_key]), "s3", region)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise Refused(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )

    @staticmethod
    def _read_body(environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
        else:  # chunked transfer encoding: the server has ended the stream for us
            body = environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    keys = {os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]}
    os.environ.setdefault("MOTO_PORT", str(port))
    app = SignatureGate(DomainDispatcherApplication(create_backend_app), keys, os.environ.get("S3_ORIGIN_SECRET", ""))
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
