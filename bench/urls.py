"""The project's URLs plus the bench baselines under ``/api/v1/bench/`` (``bench.settings``)."""

from django.urls import path

from bench import views
from tiktok import urls as project_urls

bench_patterns = [
    path("api/v1/bench/feed-sql", views.BenchSqlFeedApi.as_view(), name="bench-feed-sql"),
    path("api/v1/bench/floor", views.BenchFloorApi.as_view(), name="bench-floor"),
]

# First: the project's URLconf ends with a catch-all JSON 404 under /api/.
urlpatterns = [*bench_patterns, *project_urls.urlpatterns]

# Django reads the error handlers from the root URLconf only.
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
