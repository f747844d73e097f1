"""``manage.py bucket_lifecycle_apply --endpoint URL --bucket NAME``: put the lifecycle rules."""

import json

import boto3
from django.core.management.base import BaseCommand

from videos.lifecycle import bucket_lifecycle_apply


class Command(BaseCommand):
    help = "Apply the media bucket's lifecycle rules (videos/lifecycle.py) and print them."

    def add_arguments(self, parser):
        parser.add_argument("--endpoint", required=True, help="S3 endpoint URL")
        parser.add_argument("--bucket", required=True)

    def handle(self, *args, endpoint: str, bucket: str, **options):
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.stdout.write(json.dumps(bucket_lifecycle_apply(client, bucket=bucket)))
