"""One owner per HTTP resource: every route under /api/v1/ is served by a view of
``api.endpoints``, and the README's table names the module of each route."""

import re
from pathlib import Path

from django.urls import URLResolver, get_resolver

from api import urls as api_urls

README = Path(__file__).resolve().parents[2] / "README.md"


def _api_v1_patterns():
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/":
            return entry.url_patterns
    raise AssertionError("no api/v1/ include in the root URLconf")


def test_every_api_route_is_served_from_api_endpoints():
    modules = {pattern.callback.view_class.__module__ for pattern in _api_v1_patterns()}
    assert modules and all(module.startswith("api.endpoints.") for module in modules), modules


def test_readme_names_the_module_of_every_route():
    rows = {}
    for line in README.read_text().splitlines():
        found = re.search(r"`api/endpoints/(\w+)\.py`", line)
        if found and line.startswith("|"):
            rows[found.group(1)] = line
    for pattern in api_urls.urlpatterns:
        module = pattern.callback.view_class.__module__.rsplit(".", 1)[-1]
        resource = "/" + str(pattern.pattern).split("/", 1)[0]
        assert module in rows, f"README names no row for api/endpoints/{module}.py"
        assert resource in rows[module], f"{pattern.pattern} is served by {module}.py; its README row omits {resource}"
