"""The routers of ``/v1``, one module per resource."""
