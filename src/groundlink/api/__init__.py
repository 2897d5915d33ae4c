"""The REST API of the platform (FastAPI), versioned under ``/v1``.

:func:`create_app` builds the application on a database URL;
:func:`create_tenant_with_key` bootstraps a tenant and its first API key.
"""

from groundlink.api.app import create_app
from groundlink.api.auth import create_tenant_with_key

__all__ = ["create_app", "create_tenant_with_key"]
