"""Property-based fuzzing of every API operation from the generated OpenAPI schema.

Schemathesis generates requests (valid and invalid) for each operation and runs its
checks: no 5xx, every status and content type documented, responses match the schema,
requests that violate the schema are refused. Bounded by
``FUZZ_EXAMPLES`` per operation (CI default below) so the suite stays fast.
"""

import os

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import openapi
from schemathesis.specs.openapi.checks import positive_data_acceptance

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
    # Every check schemathesis has, but positive_data_acceptance: a request valid by the schema
    # may still be refused by state the schema cannot express (an opaque signed cursor, the
    # current password, an id that must exist), with a 400 the operation documents.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
