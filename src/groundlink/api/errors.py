"""How errors leave the API: FastAPI's ``detail[]`` for validation, one envelope for the rest.

Validation errors (422) keep FastAPI's shape, ``{"detail": [{"loc", "msg",
"type", "input", ...}]}``, with each ``msg`` naming the field, the value and
what was expected. A service's :class:`~groundlink.errors.InvalidInput` is a
422 in that shape too, its ``loc`` saying where the field came from
(``path``, ``query``, ``header`` or ``body``; :func:`input_location`), and
also carries the envelope below.

Every other error is ``{"error": {"code": ..., "message": ..., ...}}``:

======  ==========================  ==================================================
status  code                        when
======  ==========================  ==================================================
401     ``unauthorized``            no key, a malformed, unknown or revoked key
403     ``forbidden``               the key lacks the scope the route needs
404     ``not_found``               unknown id, or another tenant's (never 403)
409     ``contact_conflict``        antenna or spacecraft taken; names the contact
                                    (when the caller owns it) and both time ranges
409     ``antenna_unavailable``     maintenance; ``locked_for_changes``,
                                    ``stale_version``, ``invalid_transition``,
                                    ``conflict``
413     ``payload_too_large``       request body over the limit (``max_body_bytes``)
422     ``invalid_input``           ``field``, ``value``, ``expected`` (and ``line``)
429     ``rate_limited``            the key's request rate is spent; ``Retry-After``
                                    header and ``retry_after_s`` (whole seconds)
503     ``database_unavailable``    the database cannot be reached (or stays locked);
                                    nothing was changed; ``Retry-After`` header
======  ==========================  ==================================================

413 and 429 come from :mod:`groundlink.api.limits`, before any route runs;
every operation lists them in the OpenAPI document (:data:`ERROR_RESPONSES`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundlink.contacts.conflicts import iso_z
from groundlink.contacts.states import ContactStateError
from groundlink.errors import InvalidInput
from groundlink.services.errors import (
    AntennaUnavailable,
    ContactConflict,
    LockedForChanges,
    NotFound,
    StaleVersion,
)

_log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_input",
}

_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        }
    },
}

#: OpenAPI entries for the envelope, shared by every route.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
    }
    for status, description in (
        (401, "Missing, malformed, unknown or revoked API key"),
        (403, "The key lacks the scope this route needs"),
        (404, "No such object for this tenant"),
        (409, "Conflict: contact taken, locked, stale or in the wrong state"),
        (413, "Request body larger than the server's limit (`max_body_bytes`)"),
        (429, "Too many requests for this API key; retry after `Retry-After` seconds"),
        (503, "The database cannot be reached; retry after `Retry-After` seconds"),
    )
}
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {
        "description": "Whole seconds until the key may send another request",
        "schema": {"type": "integer", "minimum": 1},
    }
}


class ApiError(Exception):
    """An error the API returns in the envelope: ``status``, ``code``, ``message``, extras."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def envelope(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The error envelope as a response."""
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc[1:] if part != "body"] if len(loc) > 1 else []
    return ".".join(parts) or ".".join(str(part) for part in loc)


def _validation_item(error: dict[str, Any]) -> dict[str, Any]:
    item = {key: value for key, value in error.items() if key not in ("url", "ctx")}
    loc = tuple(error.get("loc", ()))
    field = _field_name(loc)
    if error.get("type") == "missing":
        item["msg"] = f"{field}: missing, expected a value (required field)"
    elif error.get("type") == "extra_forbidden":
        item["msg"] = f"{field}: got {error.get('input')!r}, expected no such field (not settable)"
    else:
        expected = str(error.get("msg", "")).removeprefix("Value error, ")
        expected = expected.removeprefix("Input should be ")
        item["msg"] = f"{field}: got {error.get('input')!r}, expected {expected}"
        ctx = error.get("ctx")
        if ctx:
            item["ctx"] = {key: str(value) for key, value in ctx.items()}
    return item


def input_location(request: Request, field: str) -> str:
    """Where ``request`` carried ``field``, in FastAPI's words: path, query, header or body.

    A parameter of that name (its first dotted part) in the path, the query
    string or the headers, in that order, is the answer. Otherwise the field
    is one the service named for itself (``window_end`` for the ``end``
    parameter, ``cursor`` for ``next_token``): it came from the body when the
    route takes one, else from the query string, the only other input a
    route without a body reads.
    """
    name = field.split(".", 1)[0]
    if name in request.path_params:
        return "path"
    if name in request.query_params:
        return "query"
    if name in request.headers:
        return "header"
    route = request.scope.get("route")
    return "body" if getattr(route, "body_field", None) is not None else "query"


def invalid_input_response(error: InvalidInput, location: str) -> JSONResponse:
    """An :class:`InvalidInput` as a 422: ``detail[]``, ``loc`` ``[location, field]``; envelope."""
    extra: dict[str, Any] = {"field": error.field, "value": error.value, "expected": error.expected}
    if error.line is not None:
        extra["line"] = error.line
    body = {
        "detail": [
            {
                "loc": [location, error.field],
                "msg": error.message,
                "type": "invalid_input",
                "input": error.value,
            }
        ],
        "error": {"code": "invalid_input", "message": error.message, **extra},
    }
    return JSONResponse(body, status_code=422)


def _conflict_response(error: ContactConflict) -> JSONResponse:
    return envelope(
        409,
        "contact_conflict",
        str(error),
        kind=error.kind,
        conflicting_contact_id=error.conflicting_contact_id,
        requested={"start": iso_z(error.requested_start), "end": iso_z(error.requested_end)},
        conflicting={
            "start": iso_z(error.conflicting_start),
            "end": iso_z(error.conflicting_end),
        },
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error its documented shape."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        items = [_validation_item(dict(e)) for e in error.errors()]
        return JSONResponse({"detail": items}, status_code=422)

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, error: InvalidInput) -> JSONResponse:
        return invalid_input_response(error, input_location(request, error.field))

    @app.exception_handler(ApiError)
    async def _api(_request: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return envelope(error.status, error.code, error.message, headers, **error.extra)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, error: NotFound) -> JSONResponse:
        return envelope(
            404,
            "not_found",
            str(error),
            object_type=error.object_type,
            object_id=error.object_id,
        )

    @app.exception_handler(ContactConflict)
    async def _conflict(_request: Request, error: ContactConflict) -> JSONResponse:
        return _conflict_response(error)

    @app.exception_handler(AntennaUnavailable)
    async def _unavailable(_request: Request, error: AntennaUnavailable) -> JSONResponse:
        return envelope(
            409,
            "antenna_unavailable",
            str(error),
            antenna_id=error.antenna_id,
            maintenance={"start": iso_z(error.start), "end": iso_z(error.end)},
        )

    @app.exception_handler(LockedForChanges)
    async def _locked(_request: Request, error: LockedForChanges) -> JSONResponse:
        return envelope(
            409,
            "locked_for_changes",
            str(error),
            locked_at=iso_z(error.locked_at),
            contact_status=error.status,
        )

    @app.exception_handler(StaleVersion)
    async def _stale(_request: Request, error: StaleVersion) -> JSONResponse:
        return envelope(
            409, "stale_version", str(error), expected=error.expected, actual=error.actual
        )

    @app.exception_handler(ContactStateError)
    async def _state(_request: Request, error: ContactStateError) -> JSONResponse:
        return envelope(
            409,
            "invalid_transition",
            str(error),
            current=error.current.value,
            target=error.target.value,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value that passed validation (e.g. a NUL character).
        refused = InvalidInput(
            "request", "(a value)", "text without NUL characters, numbers in range"
        )
        return invalid_input_response(refused, input_location(request, refused.field))

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, error: OperationalError) -> JSONResponse:
        # A lost connection or a lock held too long: the transaction was rolled back.
        _log.warning("database unavailable: %s", error.orig)
        return envelope(
            503,
            "database_unavailable",
            "the database cannot be reached right now; nothing was changed, retry shortly",
            {"Retry-After": "1"},
            retry_after_s=1,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(error.status_code, "error")
        return envelope(error.status_code, code, str(error.detail), error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        _log.exception("unhandled error", exc_info=error)
        return envelope(500, "internal", "internal error; it has been logged")


__all__ = ["ERROR_RESPONSES", "ApiError", "envelope", "install_error_handlers"]
