"""The HTTP layer: every URL under ``/api/v1/`` (``api.urls``), one module per resource in
``api.endpoints``, the input and output shapes in ``api.serializers``, and the composition
of what an endpoint returns (``api.cards``: video cards with the viewer's state).

Views parse, call the domain apps' services and selectors, and serialize; the domain apps
never import this package.
"""
