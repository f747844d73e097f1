"""The resource modules: every route of one HTTP resource in one module (``api.urls``)."""
