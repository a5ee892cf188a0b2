"""Optional bearer token for every request that changes anything."""

from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class TokenForChanges(BasePermission):
    """Reads are open; writes need ``Authorization: Bearer <CHIPLET_DSE_API_TOKEN>`` if set."""

    message = "this server requires 'Authorization: Bearer <token>' for changes"

    def has_permission(self, request: Request, view: object) -> bool:
        token = settings.CHIPLET_DSE_API_TOKEN
        if not token or request.method in SAFE_METHODS:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
