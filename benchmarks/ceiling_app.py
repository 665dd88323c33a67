"""The ceiling for forward-auth in Python: a bare Starlette app that answers every
`/authz/nginx` with 200 `{"allowed": true}`, deciding nothing (bench_forward_auth_ceiling.py)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def allow(request: Request) -> JSONResponse:
    return JSONResponse({"allowed": True})


app = Starlette(routes=[Route("/authz/nginx", allow, methods=["GET"])])
