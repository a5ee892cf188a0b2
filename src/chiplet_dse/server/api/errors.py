"""One error shape for every API failure: ``{"status": "error", "message": ...}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from chiplet_dse.errors import ChipletDSEError, ConflictError, InputError, NotFoundError

log = logging.getLogger(__name__)

_STATUS = {InputError: 400, NotFoundError: 404, ConflictError: 409}


def error(message: str, code: int) -> Response:
    return Response({"status": "error", "message": message}, status=code)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """DRF validation details as 'field: message' lines."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out += _flatten(value, "" if key == "non_field_errors" else name)
        return out
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ChipletDSEError):
        code = next((c for t, c in _STATUS.items() if isinstance(exc, t)), 400)
        return error(str(exc), code)
    if isinstance(exc, Http404):
        return error(str(exc) or "not found", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return error("permission denied", status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.ValidationError):
        return error("; ".join(_flatten(exc.detail)) or "invalid request", 400)
    if isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if isinstance(exc, exceptions.PermissionDenied) and not context["request"].headers.get(
            "Authorization"
        ):
            code = status.HTTP_401_UNAUTHORIZED
        response = error("; ".join(_flatten(exc.detail)), code)
        if code == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response
    log.exception("unhandled error in %s", context.get("view"))
    return error("internal server error", status.HTTP_500_INTERNAL_SERVER_ERROR)


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Unknown URLs answer in the API's error shape too."""
    return JsonResponse({"status": "error", "message": f"no such URL: {request.path}"}, status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "error", "message": "internal server error"}, status=500)
