"""The endpoint table in Casbin (pycasbin): a REST model with keyMatch2 and scopes as attributes.

The model is Casbin's RESTful example (`keyMatch2` on the path, the method compared exactly)
with the token as an ABAC subject: `r.tok.scopes` and `r.tok.user_ids` are sets on a plain
object. One policy line per (method, path, alternative):

    p, read:brands,  /brands/:id, GET, ,
    p, read:brands:, /brands/:id, GET, id,
    p, read:user-tokens, /users/:user_id/tokens/:token, GET, , user_id

`scope` + the path parameter named in `param` (`keyGet2`) must be one of the token's scopes,
and when `bind` names a path parameter, its value must be one of the token's user ids. Built
the way a fluent user would: the model and policy loaded once, into a `FastEnforcer` whose
policy is indexed by method (`cache_key_order`), so a request scans only its method's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import casbin
from casbin.model import FastModel

from peers.glue import split_token
from peers.table import Row

__all__ = ["DISTRIBUTION", "NAME", "Engine"]

NAME = "casbin"
DISTRIBUTION = "casbin"

MODEL = """\
[request_definition]
r = tok, obj, act

[policy_definition]
p = scope, obj, act, param, bind

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && keyMatch2(r.obj, p.obj) \
&& p.scope + keyGet2(r.obj, p.obj, p.param) in r.tok.scopes \
&& (p.bind == "" || keyGet2(r.obj, p.obj, p.bind) in r.tok.user_ids)
"""
ACT = 2  # the method's position in both r and p: FastEnforcer indexes the policy on it


@dataclass(frozen=True, slots=True)
class Token:
    """The ABAC subject: the attributes the matcher reads."""

    scopes: frozenset[str]
    user_ids: frozenset[str]


def policy_lines(rows: Sequence[Row]) -> list[list[str]]:
    """One line per (method, alternative): [scope, keyMatch2 path, method, param, bind]."""
    lines = []
    for row in rows:
        path = row.path.replace("{", ":").replace("}", "")  # /brands/{id} -> /brands/:id
        for need in row.any_of:
            scope, param = row.split_need(need)
            scope, param = (scope + ":", param) if param else (scope, "")
            for method in row.methods:
                lines.append([scope, path, method, param, row.user_param or ""])
    return lines


class Engine:
    name = NAME

    def __init__(self, rows: Sequence[Row]) -> None:
        model = FastModel([ACT])
        model.load_model_from_text(MODEL)
        self.enforcer = casbin.FastEnforcer(model, cache_key_order=[ACT])
        self.enforcer.add_function("keyGet2", casbin.util.key_get2)
        self.lines = policy_lines(rows)
        self.enforcer.add_policies(self.lines)

    def source(self) -> str:
        policy = "\n".join("p, " + ", ".join(line) for line in self.lines)
        return f"# model.conf\n{MODEL}\n# policy.csv\n{policy}\n"

    def token(self, scope_string: str) -> Token:
        parts = split_token(scope_string)
        return Token(frozenset(parts.scopes), frozenset(parts.user_ids))

    def decide(self, token: Token, method: str, path: str) -> bool:
        query = path.find("?")
        if query != -1:
            path = path[:query]
        return self.enforcer.enforce(token, path, method)
