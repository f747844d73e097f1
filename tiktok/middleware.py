"""Per-request context: request id for logs and the database routing scope."""

import re

from tiktok import db_router
from tiktok.logging import new_request_id, request_id_var

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        try:
            with db_router.scope():
                # A request that writes reads what it checks from the primary (the target
                # of a like or follow may be seconds old), and moderators act on what
                # they see: the admin reads the primary too.
                if request.method not in SAFE_METHODS or request.path.startswith("/admin/"):
                    with db_router.use_primary():
                        response = self.get_response(request)
                else:
                    response = self.get_response(request)
                db_router.remember_write_position()
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response
