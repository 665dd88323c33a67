"""1,000 concurrent forward-auth requests against a real server: every answer right, no error."""

from __future__ import annotations

import asyncio
import random

import httpx

from tests.test_gateway import authz, issuer, tokens  # noqa: F401  (fixtures)

CONCURRENT = 1000


def _requests(tokens) -> list[tuple[dict[str, str], int]]:  # noqa: F811
    """A shuffled mix: allowed, denied, no token, invalid token; each with its expected status."""
    forged = tokens["bearer"][:-6] + ("AAAAAA" if not tokens["bearer"].endswith("AAAAAA") else "BBBBBB")
    kinds = [
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
          "Authorization": f"Bearer {tokens['bearer']}"}, 200),
        ({"X-Original-Method": "GET", "X-Original-URI": "/users/pigeon/preferences/t1",
          "Authorization": f"Bearer {tokens['user']}"}, 200),
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/other",
          "Authorization": f"Bearer {tokens['bearer']}"}, 403),
        ({"X-Original-Method": "DELETE", "X-Original-URI": "/users/pigeon/preferences/t1",
          "Authorization": f"Bearer {tokens['user']}"}, 403),
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/acme/../other",
          "Authorization": f"Bearer {tokens['bearer']}"}, 403),
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/acme"}, 401),
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
          "Authorization": f"Bearer {forged}"}, 401),
        ({"X-Original-Method": "GET", "X-Original-URI": "/brands/acme",
          "Authorization": "Bearer garbage"}, 401),
    ]
    mix = [kinds[i % len(kinds)] for i in range(CONCURRENT)]
    random.Random(7).shuffle(mix)
    return mix


async def _fire(url: str, mix) -> list[int]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        answers = await asyncio.gather(*(http.get("/authz/nginx", headers=headers)
                                         for headers, _ in mix))
    return [answer.status_code for answer in answers]


def test_a_thousand_concurrent_forward_auth_requests(authz, tokens):  # noqa: F811
    mix = _requests(tokens)
    statuses = asyncio.run(_fire(authz.url, mix))
    assert statuses == [expected for _, expected in mix]
    assert "Traceback" not in authz.output()
