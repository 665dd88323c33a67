"""Load a policy (TOML text, file or dict), check what it means, and compile it.

Every mistake is a PolicyError naming the file, the line where it can be found, the entry, and
a fix. Nothing is asserted: a policy that loads is one the evaluator can trust.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from scopes.catalogue import Catalogue, ScopeSpec
from scopes.errors import PolicyError, ScopeSyntaxError
from scopes.model import PermissionScope, PrincipalScope, ScopeSet
from scopes.paths import canonical_segments
from scopes.policy import compile as c
from scopes.policy.schema import FieldModel, PolicyModel
from scopes.syntax import scope_tokens

__all__ = ["LoadedPolicy", "load_policy_dict", "load_policy_file", "load_policy_text"]

# RFC 9110 §5.6.2: token = 1*tchar
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_GRAPHQL_OPERATIONS = ("query", "mutation", "subscription")


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """Everything the evaluator and the tools need, checked and compiled."""

    name: str
    file: str
    catalogue: Catalogue
    roles: dict[str, ScopeSet]
    router: c.Router
    model: PolicyModel


def load_policy_file(path: str | Path) -> LoadedPolicy:
    """Read and load a TOML policy file; an unreadable file is a PolicyError too."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("policy file not found", file=name, fix="check the path") from None
    except IsADirectoryError:
        raise PolicyError("policy path is a directory", file=name, fix="name a .toml file") from None
    except UnicodeDecodeError as error:
        raise PolicyError(
            f"policy file is not UTF-8 ({error.reason} at byte {error.start})",
            file=name,
            fix="save the file as UTF-8",
        ) from None
    except OSError as error:
        raise PolicyError(f"cannot read policy file: {error.strerror}", file=name) from None
    return load_policy_text(text, file=name)


def load_policy_text(text: str, *, file: str = "<policy>") -> LoadedPolicy:
    """Load a policy from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _toml_error_line(str(error))
        raise PolicyError(
            f"invalid TOML: {error}", file=file, line=line, fix="fix the TOML syntax"
        ) from None
    return load_policy_dict(data, file=file, source=text)


def load_policy_dict(data: Any, *, file: str = "<dict>", source: str | None = None) -> LoadedPolicy:
    """Load a policy from already-decoded data (as TOML or JSON would give)."""
    lines = _Lines(source)
    try:
        model = PolicyModel.model_validate(data)
    except ValidationError as error:
        raise _schema_error(error, file, lines) from None
    return _Checker(model, file, lines).load()


class _Lines:
    """Finds the line of an entry in the TOML source, where there is a source."""

    def __init__(self, source: str | None) -> None:
        self._lines = source.splitlines() if source is not None else []

    def array_entry(self, table: str, index: int) -> int | None:
        header = f"[[{table}]]"
        seen = -1
        for number, line in enumerate(self._lines, 1):
            if line.strip().replace(" ", "") == header:
                seen += 1
                if seen == index:
                    return number
        return None

    def named_entry(self, table: str, key: str) -> int | None:
        """`[table."key"]`, `[table.key]`, or `"key" = ...` / `key = ...` inside `[table]`."""
        headers = {f'[{table}."{key}"]', f"[{table}.'{key}']", f"[{table}.{key}]"}
        in_table = False
        for number, line in enumerate(self._lines, 1):
            stripped = line.strip()
            if stripped.replace(" ", "") in headers:
                return number
            if stripped.startswith("["):
                in_table = stripped.replace(" ", "") == f"[{table}]"
                continue
            if in_table and stripped.split("=", 1)[0].strip().strip("\"'") == key:
                return number
        return None


def _toml_error_line(message: str) -> int | None:
    found = re.search(r"\(at line (\d+), column \d+\)", message)
    return int(found.group(1)) if found else None


def _schema_error(error: ValidationError, file: str, lines: _Lines) -> PolicyError:
    first = error.errors()[0]
    loc = first["loc"]
    entry, line = _entry_of(loc, lines)
    field = ".".join(str(part) for part in (loc[2:] if entry else loc))
    text = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"unknown key {str(loc[-1])!r}"
        fix = "remove it or correct its spelling (see scopes/policy/courier.toml for the format)"
    elif first["type"] == "missing":
        message = f"missing required key {str(loc[-1])!r}"
        fix = f"add `{loc[-1]} = ...`"
    else:
        message = f"{field}: {text}" if field else text
        fix = "see scopes/policy/courier.toml for the expected format"
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return PolicyError(message, file=file, line=line, entry=entry, fix=fix)


def _entry_of(loc: tuple, lines: _Lines) -> tuple[str | None, int | None]:
    if len(loc) >= 2 and loc[0] in ("endpoints", "graphql") and isinstance(loc[1], int):
        return f"{loc[0]}[{loc[1]}]", lines.array_entry(str(loc[0]), loc[1])
    if len(loc) >= 2 and loc[0] in ("scopes", "roles"):
        return f"{loc[0]}.{loc[1]}", lines.named_entry(str(loc[0]), str(loc[1]))
    return None, None


class _Checker:
    """Checks meaning entry by entry and builds the compiled routes."""

    def __init__(self, model: PolicyModel, file: str, lines: _Lines) -> None:
        self.model = model
        self.file = file
        self.lines = lines

    def fail(
        self, message: str, *, entry: str, line: int | None, fix: str | None = None
    ) -> NoReturn:
        raise PolicyError(message, file=self.file, line=line, entry=entry, fix=fix)

    def load(self) -> LoadedPolicy:
        catalogue = self.catalogue()
        roles = self.roles(catalogue)
        routes: list[c.Route] = []
        seen: dict[tuple[str, tuple[str | None, ...]], str] = {}
        for index, endpoint in enumerate(self.model.endpoints):
            entry = f"endpoints[{index}]"
            line = self.lines.array_entry("endpoints", index)
            params = self.template(endpoint.path, entry, line)
            alternatives = self.requirement(endpoint, params, catalogue, entry, line)
            if endpoint.principal_param is not None:
                alternatives = self.bind_principal(
                    endpoint.principal_param, alternatives, params, catalogue, entry, line
                )
            for method in self.methods(endpoint.methods, entry, line):
                route = c.Route(method, endpoint.path, tuple(params.items()), alternatives)
                routes.append(self.unique(route, seen, entry, line))
        for index, graphql in enumerate(self.model.graphql):
            entry = f"graphql[{index}]"
            line = self.lines.array_entry("graphql", index)
            params = self.template(graphql.path, entry, line)
            operations = {}
            for operation in _GRAPHQL_OPERATIONS:
                fields: dict[str, FieldModel] = getattr(graphql, operation)
                operations[operation] = {
                    name: self.requirement(spec, params, catalogue, f"{entry}.{operation}.{name}", line)
                    for name, spec in fields.items()
                }
            if not any(operations.values()):
                self.fail(
                    "GraphQL endpoint lists no field",
                    entry=entry,
                    line=line,
                    fix='add e.g. `[graphql.query.messages]` with `any_of = ["read:messages"]`',
                )
            for method in self.methods(graphql.methods, entry, line):
                route = c.Route(
                    method, graphql.path, tuple(params.items()), (), c.GraphQLRoute(operations)
                )
                routes.append(self.unique(route, seen, entry, line))
        return LoadedPolicy(
            self.model.name, self.file, catalogue, roles, c.Router(routes), self.model
        )

    # -- the catalogue -------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        principal = self.model.principal
        if not _is_single_token(principal) or ":" in principal or "{" in principal:
            self.fail(
                f"principal {principal!r} must be one scope segment (no ':', spaces or braces)",
                entry="principal",
                line=self.lines.named_entry("", "principal"),
                fix='use e.g. principal = "user_id"',
            )
        specs = []
        for name, scope in self.model.scopes.items():
            entry, line = f"scopes.{name}", self.lines.named_entry("scopes", name)
            if not _is_single_token(name) or "{" in name or "}" in name:
                self.fail(
                    f"scope name {name!r} is not one well-formed scope token",
                    entry=entry,
                    line=line,
                    fix="use NQCHAR characters and non-empty ':'-separated segments, no braces",
                )
            if name == principal or name.startswith(principal + ":"):
                self.fail(
                    f"scope {name!r} clashes with the principal scope {principal!r}:<id>",
                    entry=entry,
                    line=line,
                    fix="rename the scope or the principal",
                )
            if scope.qualifier is not None and not scope.qualifier.isidentifier():
                self.fail(
                    f"qualifier name {scope.qualifier!r} is not an identifier",
                    entry=entry,
                    line=line,
                    fix='use a name such as "brand_id"',
                )
            specs.append(ScopeSpec(name, scope.qualifier, scope.needs_principal, scope.description))
        for spec in specs:
            if spec.qualifier is None:
                continue
            for other in specs:
                if other.name.startswith(spec.name + ":"):
                    self.fail(
                        f"{other.name!r} could also be read as {spec.name!r} with qualifier "
                        f"{other.name[len(spec.name) + 1 :]!r}",
                        entry=f"scopes.{other.name}",
                        line=self.lines.named_entry("scopes", other.name),
                        fix=f"rename one of them, or drop the qualifier of {spec.name!r}",
                    )
        return Catalogue(principal, specs)

    def roles(self, catalogue: Catalogue) -> dict[str, ScopeSet]:
        roles = {}
        for name, text in self.model.roles.items():
            entry, line = f"roles.{name}", self.lines.named_entry("roles", name)
            scopes = self.parse(text, catalogue, entry, line)
            for scope in scopes:
                if type(scope) not in (PermissionScope, PrincipalScope):
                    self.unknown_scope(str(scope), catalogue, entry, line)
            roles[name] = ScopeSet(scopes)
        return roles

    # -- endpoints -----------------------------------------------------------------------------

    def methods(self, methods: list[str], entry: str, line: int | None) -> list[str]:
        for method in methods:
            if not method or not all(ch in _TCHAR for ch in method):
                self.fail(
                    f"method {method!r} is not an HTTP method token (RFC 9110)",
                    entry=entry,
                    line=line,
                    fix='use names such as "GET", "PUT", "DELETE"',
                )
            if method != method.upper():
                self.fail(
                    f"method {method!r} is not upper case; methods are case-sensitive",
                    entry=entry,
                    line=line,
                    fix=f"did you mean {method.upper()!r}?",
                )
        if len(set(methods)) != len(methods):
            self.fail("a method is listed twice", entry=entry, line=line, fix="list each once")
        return methods

    def template(self, path: str, entry: str, line: int | None) -> dict[str, int]:
        """Check a path template; return its parameters and their segment indexes."""
        if not path.startswith("/"):
            self.fail(
                f"path {path!r} must start with '/'", entry=entry, line=line, fix=f"use '/{path}'"
            )
        params: dict[str, int] = {}
        segments = path[1:].split("/")
        for index, seg in enumerate(segments):
            if seg.startswith("{") and seg.endswith("}"):
                name = seg[1:-1]
                if not (name.isidentifier() and name.isascii()):
                    self.fail(
                        f"path parameter {seg!r} needs an identifier name",
                        entry=entry,
                        line=line,
                        fix="use e.g. {id} or {user_id}",
                    )
                if name in params:
                    self.fail(
                        f"path parameter {name!r} appears twice in {path!r}",
                        entry=entry,
                        line=line,
                        fix="give each parameter its own name",
                    )
                params[name] = index
                continue
            if seg == "" and index == len(segments) - 1:
                continue  # a trailing slash is part of the template, matched exactly
            if seg == "":
                self.fail(
                    f"path {path!r} has an empty segment ('//')",
                    entry=entry,
                    line=line,
                    fix="remove the doubled '/'; requests with '//' are always denied",
                )
            if "{" in seg or "}" in seg:
                self.fail(
                    f"segment {seg!r} of {path!r} mixes a parameter with text",
                    entry=entry,
                    line=line,
                    fix="a parameter is a whole segment: /brands/{id}",
                )
            if canonical_segments("/" + seg) != (seg,):
                self.fail(
                    f"segment {seg!r} of {path!r} is not a canonical path segment",
                    entry=entry,
                    line=line,
                    fix="write literal segments with unreserved characters only "
                    "(letters, digits, '-', '.', '_', '~'), no '%' escapes, no empty or dot segments",
                )
        return params

    def requirement(
        self,
        spec: Any,
        params: dict[str, int],
        catalogue: Catalogue,
        entry: str,
        line: int | None,
    ) -> tuple[c.Alternative, ...]:
        if spec.public:
            return ()
        alternatives = []
        for text in spec.any_of:
            if not text.strip():
                self.fail(
                    "an empty alternative would allow any token",
                    entry=entry,
                    line=line,
                    fix="write `public = true` if no scope is needed",
                )
            needs = tuple(
                self.need(scope, params, catalogue, entry, line)
                for scope in self.parse(text, catalogue, entry, line)
            )
            needs = tuple(dict.fromkeys(needs))  # a scope written twice is needed once
            needs_principal = any(
                catalogue.specs[need.name].needs_principal
                for need in needs
                if need.kind in (c.PERMISSION, c.PERMISSION_PARAM)
            )
            alternatives.append(c.Alternative(needs, needs_principal))
        return tuple(alternatives)

    def need(self, scope, params, catalogue, entry, line) -> c.Need:
        kind = type(scope)
        if kind is PrincipalScope:
            placeholder = _placeholder(scope.id)
            if placeholder is None:
                return c.Need(c.PRINCIPAL, scope.name, scope.id)
            return c.Need(
                c.PRINCIPAL_PARAM, scope.name, None, self.param(placeholder, params, entry, line),
                placeholder,
            )
        if kind is PermissionScope:
            if scope.qualifier is None:
                return c.Need(c.PERMISSION, scope.name)
            placeholder = _placeholder(scope.qualifier)
            if placeholder is None:
                if "{" in scope.qualifier or "}" in scope.qualifier:
                    self.fail(
                        f"placeholder in {str(scope)!r} must be the whole qualifier",
                        entry=entry,
                        line=line,
                        fix=f"write {scope.name}:{{param}}",
                    )
                return c.Need(c.PERMISSION, scope.name, scope.qualifier)
            return c.Need(
                c.PERMISSION_PARAM,
                scope.name,
                None,
                self.param(placeholder, params, entry, line),
                placeholder,
            )
        self.unknown_scope(str(scope), catalogue, entry, line)

    def param(self, name: str, params: dict[str, int], entry: str, line: int | None) -> int:
        if name not in params:
            known = ", ".join(f"{{{p}}}" for p in params) or "none"
            self.fail(
                f"placeholder {{{name}}} is not a parameter of the path",
                entry=entry,
                line=line,
                fix=f"use one of the path's parameters ({known})",
            )
        return params[name]

    def bind_principal(self, name, alternatives, params, catalogue, entry, line):
        index = self.param(name, params, entry, line)
        bound = c.Need(c.PRINCIPAL_PARAM, catalogue.principal, None, index, name)
        return tuple(
            c.Alternative(alt.needs if bound in alt.needs else alt.needs + (bound,), alt.needs_principal)
            for alt in alternatives
        )

    def unique(self, route: c.Route, seen: dict, entry: str, line: int | None) -> c.Route:
        key = (route.method, c.template_segments(route.template))
        if key in seen:
            self.fail(
                f"route {route.rule} is declared twice (also by {seen[key]}); "
                "the two would match the same requests",
                entry=entry,
                line=line,
                fix="merge the two entries, or remove one",
            )
        seen[key] = entry
        return route

    # -- scopes inside the policy --------------------------------------------------------------

    def parse(self, text: str, catalogue: Catalogue, entry: str, line: int | None):
        try:
            return catalogue.parse_scopes(text)
        except ScopeSyntaxError as error:
            self.fail(
                f"invalid scope string:\n{error}",
                entry=entry,
                line=line,
                fix="write scopes separated by single spaces (RFC 6749 §3.3)",
            )

    def unknown_scope(self, text, catalogue: Catalogue, entry, line) -> NoReturn:
        unknown = catalogue.unknown(text)
        if unknown.kind == "takes-no-qualifier":
            fix = f"or declare `qualifier = ...` under [scopes.{unknown.name!r}] if it takes one"
        elif unknown.suggestion is not None:
            fix = f"or declare it under [scopes.{text!r}] if it is a new scope"
        else:
            fix = f"declare it under [scopes.{text!r}] or correct its spelling"
        self.fail(unknown.message, entry=entry, line=line, fix=fix)


def _placeholder(text: str) -> str | None:
    if len(text) > 2 and text[0] == "{" and text[-1] == "}" and text[1:-1].isidentifier():
        return text[1:-1]
    return None


def _is_single_token(text: str) -> bool:
    try:
        tokens = scope_tokens(text)
    except ScopeSyntaxError:
        return False
    return len(tokens) == 1 and tokens[0][0] == text
