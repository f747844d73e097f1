from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tiktok import health, metrics

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("videos.urls")),
    path("", include("activity.urls")),
    path("", include("feed.urls")),
    path("", include("moderation.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include(api_v1)),
]

handler400 = "tiktok.exceptions.json_bad_request"
handler403 = "tiktok.exceptions.json_permission_denied"
handler404 = "tiktok.exceptions.json_not_found"
handler500 = "tiktok.exceptions.json_server_error"
