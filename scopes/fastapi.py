"""The FastAPI dependency for handlers behind ScopesMiddleware: `scopes: Scopes` in a signature.

    @app.get("/brands/{id}")
    def brand(id: str, scopes: Scopes) -> dict:
        return {"id": id, "subject": scopes.subject, "granted": scopes.decision.granted}

The middleware makes the decision; the dependency only hands its `ScopesContext` over. Without
the middleware there is nothing to hand over, and the dependency raises RuntimeError (a 500,
like Starlette's `request.user` without AuthenticationMiddleware): a missing middleware must
fail loudly at the first request, never let it through unchecked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from scopes.asgi import ScopesContext

__all__ = ["Scopes", "ScopesContext", "scopes_context"]


def __dir__() -> list[str]:
    return __all__


def scopes_context(connection: HTTPConnection) -> ScopesContext:
    """The middleware's ScopesContext for this request; RuntimeError when there is none."""
    context = connection.scope.get("state", {}).get("scopes")
    if type(context) is not ScopesContext:
        if connection.scope.get("type") == "websocket":
            raise RuntimeError("ScopesMiddleware does not check websockets: there is no scopes "
                               "context on a websocket connection")
        raise RuntimeError(
            "no scopes context on this request: add scopes.asgi.ScopesMiddleware to the app "
            "(app.add_middleware(ScopesMiddleware, policy=..., jwks=...))"
        )
    return context


Scopes = Annotated[ScopesContext, Depends(scopes_context)]
