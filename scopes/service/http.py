"""Reading the token service's request bodies, form or JSON, within a size limit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["MAX_BODY_BYTES", "BodyError", "read_body", "read_fields"]

MAX_BODY_BYTES = 16 * 1024  # token requests are small; anything larger is refused unread


def __dir__() -> list[str]:
    return __all__


class BodyError(Exception):
    """A body we will not read: too large, not UTF-8, not the form or JSON it claims to be."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError(f"request body larger than {limit} bytes", 413)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(f"request body larger than {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The body's fields, from JSON or a form, and whether it was JSON.

    A form field given twice is refused (RFC 6749 §3.2: parameters must not repeat).
    """
    raw = await read_body(request)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("request body is not UTF-8") from None
    if content_type == "application/json" or (content_type.endswith("+json")):
        try:
            data = json.loads(text) if text.strip() else {}
        except (ValueError, RecursionError):
            raise BodyError("request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BodyError("request body must be a JSON object")
        return data, True
    if content_type in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=64)
        except ValueError:
            raise BodyError("request body is not a valid form") from None
        fields: dict[str, Any] = {}
        for key, value in pairs:
            if key in fields:
                raise BodyError(f"parameter {key!r} is repeated")
            fields[key] = value
        return fields, False
    raise BodyError(
        f"unsupported content type {content_type[:60]!r}; send "
        "application/x-www-form-urlencoded or application/json"
    )
