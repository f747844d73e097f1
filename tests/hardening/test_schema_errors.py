"""The OpenAPI schema documents every error status with the one error shape."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_throttling_outage_and_bad_tokens_with_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "429", "503"):
                answer = operation["responses"].get(status)
                assert answer is not None, f"{method.upper()} {path} lacks {status}"
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_operations_document_what_their_shape_implies(schema):
    comments = schema["paths"]["/api/v1/videos/{video_id}/comments"]["post"]["responses"]
    assert {"400", "403", "404", "409", "413", "422"} <= set(comments)
    feed = schema["paths"]["/api/v1/feed"]["get"]["responses"]
    assert "400" in feed and "413" not in feed and "404" not in feed


def test_the_error_component_is_the_shape_the_api_answers(schema, api_client):
    component = schema["components"]["schemas"]["Error"]
    body = api_client.get("/api/v1/videos/not-a-video").json()
    assert set(body) == set(component["required"])
    assert set(body["error"]) == set(component["properties"]["error"]["required"])
