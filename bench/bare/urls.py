"""One view returning ``{"ok": true}`` (and ``/healthz`` for the bench's start-up probe)."""

from django.http import JsonResponse
from django.urls import path


def ok(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("", ok), path("healthz", ok)]
