"""Property-based fuzzing of every API operation from the generated OpenAPI schema.

Schemathesis generates requests (valid and invalid) for each operation and checks that
the API never answers 5xx and that documented responses match the schema. Bounded by
``FUZZ_EXAMPLES`` per operation (CI default below) so the suite stays fast.
"""

import os

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import openapi

from tiktok.wsgi import application


def loopback_client(environ, start_response):
    """The app as a client on this machine sees it (werkzeug sends no REMOTE_ADDR; the
    schema is only served to internal addresses)."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return application(environ, start_response)


schema = openapi.from_wsgi("/api/schema?format=json", loopback_client)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


@pytest.fixture
def bearer(transactional_db):
    from tests.factories import FollowFactory, UserFactory, VideoFactory
    from tests.helpers.api import client_for

    user = UserFactory(username="fuzzer")
    other = UserFactory(username="fuzzed")
    FollowFactory(follower=user, followee=other)
    VideoFactory(owner=other)
    client = client_for(user)
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_5xx_or_breaks_its_schema(case, bearer):
    case.call_and_validate(headers=bearer)
