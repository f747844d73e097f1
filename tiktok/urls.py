from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tiktok import health, metrics
from tiktok.exceptions import json_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The schema maps every endpoint and input: for the internal network (and make run).
    path("api/schema", health.internal_only(SpectacularAPIView.as_view()), name="schema"),
    path("api/docs", health.internal_only(SpectacularSwaggerView.as_view(url_name="schema")), name="docs"),
    # Every API route, one module per resource (``api.urls``).
    path("api/v1/", include("api.urls")),
    # Last: anything else under /api/ is the JSON 404 (with DEBUG on too, where Django
    # would otherwise answer with its HTML page).
    re_path(r"^api/", csrf_exempt(json_not_found), name="api-not-found"),
    # The reference web client (one page; its modules call the API above).
    path("", include("web.urls")),
]

handler400 = "tiktok.exceptions.json_bad_request"
handler403 = "tiktok.exceptions.json_permission_denied"
handler404 = "tiktok.exceptions.json_not_found"
handler500 = "tiktok.exceptions.json_server_error"
