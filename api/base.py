"""The short dispatch of the hottest authenticated reads (``GET /api/v1/feed``, the bench
floor): ``AuthenticatedReadApiView``, an ``APIView`` whose ``GET`` runs the view's
(shared) authenticators, its permission check and the handler, with errors through
``handle_exception`` (the one error shape, 401 with ``WWW-Authenticate: Bearer``) and the
response through ``finalize_response``, as DRF does.

Skipped, because on such a read they decide nothing: content negotiation (the JSON
renderer is the only one; any other ``Accept`` takes DRF's full dispatch and gets its
answer, 406 included), versioning and format suffixes (none configured), per-request
instances of the authenticators, and throttles: the view's only throttle limits anonymous
reads, and an anonymous request fails ``IsAuthenticated`` first, as in DRF's order. Other
methods take DRF's full dispatch. The bench floor (``bench.views``) uses it too, so the
floor measures the stack the feed runs on.

Not in ``accounts.authentication``: DRF imports the authentication classes while
``rest_framework.views`` is still loading.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from tiktok.throttles import AnonReadThrottle

# Accept headers for which DRF's negotiation picks the JSON renderer with
# "application/json" (what API clients send); any other takes the full dispatch.
_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})


# No docstring on purpose: drf-spectacular documents a view by its class docstring,
# inherited when a view has none, so this one would land in every subclass's OpenAPI
# description. What it skips, and why, is in the module docstring.
class AuthenticatedReadApiView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [AnonReadThrottle]
    _authenticators: tuple = ()
    _allow_header = ""
    _renderer = JSONRenderer()

    @classmethod
    def as_view(cls, **initkwargs):
        if cls.permission_classes != [IsAuthenticated] or cls.throttle_classes != [AnonReadThrottle]:
            raise ImproperlyConfigured(f"{cls.__name__}: the short GET assumes IsAuthenticated and AnonReadThrottle.")
        # Authenticators keep no per-request state: one set per view class.
        cls._authenticators = tuple(authentication() for authentication in cls.authentication_classes)
        cls._allow_header = ", ".join(method.upper() for method in cls.http_method_names if cls._answers(method))
        return super().as_view(**initkwargs)

    @classmethod
    def _answers(cls, method: str) -> bool:
        """As DRF's ``allowed_methods`` (Django's ``View.setup`` answers HEAD with GET)."""
        return hasattr(cls, method) or (method == "head" and hasattr(cls, "get"))

    def dispatch(self, request, *args, **kwargs):
        if request.method != "GET" or request.META.get("HTTP_ACCEPT", "") not in _JSON_ACCEPTS:
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.format_kwarg = args, kwargs, None
        context = {"view": self, "args": args, "kwargs": kwargs}
        request = Request(request, authenticators=self._authenticators, parser_context=context)
        request.accepted_renderer, request.accepted_media_type = self._renderer, "application/json"
        request.version = request.versioning_scheme = None
        self.request = request
        self.headers = {"Allow": self._allow_header}
        try:
            self.perform_authentication(request)
            self.check_permissions(request)
            response = self.get(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF's own handling: the one error shape
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response
