"""The bucket's CORS rules: the web client's origins may PUT uploads and GET media.

Browsers send the presigned upload straight to the store, a different origin from the
page, so the store must answer the preflight for exactly the client's origins (the same
list the API allows, ``WEB_CLIENT_ORIGINS``). Plain boto3, no Django: ``bin/stack``
applies it when it creates the bucket::

    python -m web.bucket_cors <endpoint_url> <bucket> <origin>[,<origin>…]
"""

from __future__ import annotations

import sys

import boto3

MAX_AGE_SECONDS = 600


def bucket_cors_rules(origins: list[str]) -> dict:
    return {
        "CORSRules": [
            {
                "AllowedOrigins": list(origins),
                # PUT: the presigned upload; GET/HEAD: direct-mode playback (no CDN).
                "AllowedMethods": ["PUT", "GET", "HEAD"],
                "AllowedHeaders": ["content-type", "content-md5"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": MAX_AGE_SECONDS,
            }
        ]
    }


def bucket_cors_apply(client, *, bucket: str, origins: list[str]) -> None:
    """Replace the bucket's CORS configuration; no origins removes it (nothing is allowed)."""
    if origins:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration=bucket_cors_rules(origins))
    else:
        client.delete_bucket_cors(Bucket=bucket)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, bucket, raw = argv
    origins = [origin.strip() for origin in raw.split(",") if origin.strip()]
    bucket_cors_apply(boto3.client("s3", endpoint_url=endpoint), bucket=bucket, origins=origins)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
