"""The bench app is installed and routed by ``bench.settings`` only."""

import pytest
from django.conf import settings as project_settings

pytestmark = pytest.mark.django_db


def test_bench_settings_add_the_bench_app_and_its_urls_to_the_project_settings():
    from bench import settings as bench_settings

    assert "bench" in bench_settings.INSTALLED_APPS
    assert bench_settings.ROOT_URLCONF == "bench.urls"
    assert "bench" not in project_settings.INSTALLED_APPS


def test_product_urls_do_not_route_the_bench_endpoints(auth_client):
    for path in ("/api/v1/bench/floor", "/api/v1/bench/feed-sql"):
        response = auth_client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_bench_urls_serve_the_baselines_beside_the_project_urls(auth_client, user, settings):
    settings.ROOT_URLCONF = "bench.urls"

    floor = auth_client.get("/api/v1/bench/floor")
    assert floor.status_code == 200
    assert floor.json() == {"user": user.pk}
    sql = auth_client.get("/api/v1/bench/feed-sql")
    assert sql.status_code == 200
    assert sql.json()["items"] == []
    assert auth_client.get("/api/v1/me").status_code == 200
    missing = auth_client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_bench_endpoints_require_authentication(api_client, settings):
    settings.ROOT_URLCONF = "bench.urls"

    assert api_client.get("/api/v1/bench/floor").status_code == 401
