"""Load a policy (TOML text, file or dict), check what it means, and compile it.

Every mistake is a PolicyError naming the file, the line where it can be found, the entry, and
a fix. Nothing is asserted: a policy that loads is one the evaluator can trust.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from scopes.catalogue import Catalogue, ScopeSpec
from scopes.decision import Code
from scopes.errors import PolicyError
from scopes.model import ScopeSet
from scopes.policy import compile as c
from scopes.policy.schema import (
    EndpointModel,
    FieldModel,
    GraphQLModel,
    PolicyModel,
    PolicyTestFileModel,
    PolicyTestModel,
)
from scopes.syntax import is_single_token

__all__ = [
    "LoadedPolicy",
    "LoadedTests",
    "PolicyCase",
    "load_policy_dict",
    "load_policy_file",
    "load_policy_text",
    "load_tests_file",
]

_GRAPHQL_OPERATIONS = ("query", "mutation", "subscription")
_DENY_CODES = tuple(str(code) for code in Code if code is not Code.ALLOWED)


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One expected decision of a `[[tests]]` table, checked: the request split into method
    and target, the deny code one of `Code`, and where the case is written."""

    line: int | None
    name: str  # its `name`, else `tests[<index>]`
    scope: str
    method: str
    target: str
    body: str | dict[str, Any] | None
    expect: str  # "allow" | "deny"
    code: Code | None  # with expect = "deny": the deny's code, when the case names one

    @property
    def request(self) -> str:
        return f"{self.method} {self.target}"


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """Everything the evaluator and the tools need, checked and compiled."""

    name: str
    file: str
    catalogue: Catalogue
    roles: dict[str, ScopeSet]
    router: c.Router
    model: PolicyModel
    tests: tuple[PolicyCase, ...] = ()  # its `[[tests]]`, which play no part in deciding


@dataclass(frozen=True, slots=True)
class LoadedTests:
    """The cases of one file and the policy they test: a policy file's own `[[tests]]`, or a
    test file's, with the policy it names (`policy = "relative/path.toml"`)."""

    file: str
    policy: LoadedPolicy
    tests: tuple[PolicyCase, ...]


def load_policy_file(path: str | Path) -> LoadedPolicy:
    """Read and load a TOML policy file; an unreadable file is a PolicyError too."""
    name = str(path)
    return load_policy_text(_read(path, "policy file"), file=name)


def load_tests_file(path: str | Path) -> LoadedTests:
    """Load a file that holds `[[tests]]`: a policy file, or a test file that names its policy
    (relative to its own directory). Every problem, the named policy's included, is a
    PolicyError; a file whose cases cannot all be read runs none of them."""
    name = str(path)
    text = _read(path, "test file")
    data = _toml(text, name)
    if not (isinstance(data, dict) and "policy" in data):
        policy = load_policy_dict(data, file=name, source=text)
        return LoadedTests(name, policy, policy.tests)
    lines = _Lines(text)
    try:
        model = PolicyTestFileModel.model_validate(data)
    except ValidationError as error:
        raise _schema_error(error, name, lines) from None
    policy_file = os.path.join(os.path.dirname(name), model.policy)
    try:
        policy = load_policy_file(policy_file)
    except PolicyError as error:
        raise PolicyError(
            f"its policy {model.policy!r} does not load: {error.file}"
            + (f":{error.line}" if error.line is not None else "")
            + (f": {error.entry}" if error.entry else "") + f": {error.message}",
            file=name, line=lines.top_level("policy"),
            fix=error.fix or "name the policy file relative to this file's directory",
        ) from None
    return LoadedTests(name, policy, _cases(model.tests, name, lines))


def _read(path: str | Path, kind: str) -> str:
    name = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{kind} not found", file=name, fix="check the path") from None
    except IsADirectoryError:
        raise PolicyError(f"{kind.split()[0]} path is a directory", file=name,
                          fix="name a .toml file") from None
    except UnicodeDecodeError as error:
        raise PolicyError(
            f"{kind} is not UTF-8 ({error.reason} at byte {error.start})",
            file=name,
            fix="save the file as UTF-8",
        ) from None
    except OSError as error:
        raise PolicyError(f"cannot read {kind}: {error.strerror}", file=name) from None


def load_policy_text(text: str, *, file: str = "<policy>") -> LoadedPolicy:
    """Load a policy from TOML text."""
    return load_policy_dict(_toml(text, file), file=file, source=text)


def _toml(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _toml_error_line(str(error))
        if line is None and "(at end of document)" in str(error):
            line = max(1, len(text.splitlines()))  # the last line: where the text stopped
        raise PolicyError(
            f"invalid TOML: {error}", file=file, line=line, fix="fix the TOML syntax"
        ) from None


def load_policy_dict(data: Any, *, file: str = "<dict>", source: str | None = None) -> LoadedPolicy:
    """Load a policy from already-decoded data (as TOML or JSON would give)."""
    lines = _Lines(source)
    try:
        model = PolicyModel.model_validate(data)
    except ValidationError as error:
        raise _schema_error(error, file, lines) from None
    return _Checker(model, file, lines).load()


class _Lines:
    """Finds the line of an entry in the TOML source, where there is a source.

    Each table's lines are indexed on first use, so a policy of N entries is placed in O(N),
    not O(N²) (a 10,000-route policy file loads in a second, not a minute).
    """

    def __init__(self, source: str | None) -> None:
        self._lines = source.splitlines() if source is not None else []
        self._arrays: dict[str, list[int]] | None = None
        self._named: dict[str, dict[str, int]] = {}

    def array_entry(self, table: str, index: int) -> int | None:
        """The `index`th `[[table]]` header; for an inline `table = [...]`, that line."""
        if self._arrays is None:
            arrays: dict[str, list[int]] = {}
            for number, line in enumerate(self._lines, 1):
                compact = line.split("#", 1)[0].strip().replace(" ", "").replace("\t", "")
                if compact.startswith("[[") and compact.endswith("]]"):
                    arrays.setdefault(compact[2:-2], []).append(number)
            self._arrays = arrays
        found = self._arrays.get(table, [])
        return found[index] if 0 <= index < len(found) else self.top_level(table)

    def entry_key(self, table: str, index: int, key: str) -> int | None:
        """`key = ...` inside the `index`-th `[[table]]` entry, before the next header."""
        start = self.array_entry(table, index)
        if start is None:
            return None
        for number, line in enumerate(self._lines[start:], start + 1):
            stripped = line.strip()
            if stripped.startswith("["):
                return None
            if stripped.split("=", 1)[0].strip().strip("\"'") == key:
                return number
        return None

    def top_level(self, key: str) -> int | None:
        """`key = ...` before the first table header."""
        for number, line in enumerate(self._lines, 1):
            stripped = line.strip()
            if stripped.startswith("["):
                return None
            if stripped.split("=", 1)[0].strip().strip("\"'") == key:
                return number
        return None

    def named_entry(self, table: str, key: str) -> int | None:
        """`[table."key"]`, `[table.key]`, or `"key" = ...` / `key = ...` inside `[table]`:
        the first line that is one of those."""
        if table not in self._named:
            self._named[table] = self._index_named(table)
        return self._named[table].get(key)

    def _index_named(self, table: str) -> dict[str, int]:
        found: dict[str, int] = {}
        prefix, whole = f"[{table}.", f"[{table}]"
        in_table = False
        for number, line in enumerate(self._lines, 1):
            stripped = line.strip()
            compact = stripped.replace(" ", "")
            if compact.startswith(prefix) and compact.endswith("]"):
                inner = compact[len(prefix):-1]  # `[table.key]` names `key` as written
                found.setdefault(inner, number)
                if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
                    found.setdefault(inner[1:-1], number)  # `[table."key"]`, `[table.'key']`
            if stripped.startswith("["):
                in_table = compact == whole
                continue
            if in_table:
                found.setdefault(stripped.split("=", 1)[0].strip().strip("\"'"), number)
        return found


def _toml_error_line(message: str) -> int | None:
    found = re.search(r"\(at line (\d+), column \d+\)", message)
    return int(found.group(1)) if found else None


FORMAT_HINT = "`scopes schema` prints the policy format; README.md, \"Policy files\", shows it"

# Pydantic's error types in the words of a policy file. Its own messages ("Input should be
# 1", "List should have at least 1 item after validation") never reach a user.
_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "int_type": "a whole number",
}


def _schema_error(error: ValidationError, file: str, lines: _Lines) -> PolicyError:
    first = error.errors()[0]
    loc = first["loc"]
    entry, line = _entry_of(loc, lines)
    key = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in (loc[2:] if entry else loc)
    ).lstrip(".") or "the policy"
    if line is None and loc and isinstance(loc[0], str):
        line = lines.top_level(loc[0])
    kind, context = first["type"], first.get("ctx") or {}
    fix = FORMAT_HINT
    if kind == "extra_forbidden":
        message = f"unknown key {str(loc[-1])!r}"
        fix = f"remove it or correct its spelling ({FORMAT_HINT})"
    elif kind == "missing":
        message = f"missing required key {str(loc[-1])!r}"
        fix = f"add `{loc[-1]} = ...`"
    elif kind == "literal_error" and loc == ("version",):
        message = f"`version` must be 1, not {first['input']!r}"
        fix = "write `version = 1`"
    elif kind == "literal_error" and "expected" in context:
        message = f"`{key}` must be {context['expected']}, not {first['input']!r}"
    elif kind in ("too_short", "string_too_short"):
        message = f"`{key}` must not be empty"
    elif kind in ("too_long", "string_too_long"):
        message = f"`{key}` is longer than {context.get('max_length', 'allowed')} characters"
    elif kind in _EXPECTED:
        message = f"`{key}` must be {_EXPECTED[kind]}, not {_kind(first['input'])}"
    elif kind == "value_error":
        message = str(context.get("error", "")) or f"`{key}` has a value that is not allowed"
    else:
        message = f"`{key}` has a value of the wrong kind ({_kind(first['input'])})"
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return PolicyError(message, file=file, line=line, entry=entry, fix=fix)


def _kind(value: object) -> str:
    """A TOML value's kind in a reader's words."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    names = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a table"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _entry_of(loc: tuple[int | str, ...], lines: _Lines) -> tuple[str | None, int | None]:
    if len(loc) >= 2 and loc[0] in ("endpoints", "graphql", "tests") and isinstance(loc[1], int):
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
        lines: dict[str, int | None] = {}
        for index, endpoint in enumerate(self.model.endpoints):
            entry = f"endpoints[{index}]"
            line = lines[entry] = self.lines.array_entry("endpoints", index)
            with self.located(entry, line, ("endpoints", index)):
                routes += self.endpoint(endpoint, catalogue, entry)
        for index, graphql in enumerate(self.model.graphql):
            entry = f"graphql[{index}]"
            line = lines[entry] = self.lines.array_entry("graphql", index)
            with self.located(entry, line):
                routes += self.graphql(graphql, catalogue, entry)
        try:
            router = c.Router(routes)
        except c.CompileError as error:
            entry = error.origin or "endpoints"
            self.fail(error.message, entry=entry, line=lines.get(entry), fix=error.fix)
        tests = _cases(self.model.tests, self.file, self.lines)
        return LoadedPolicy(self.model.name, self.file, catalogue, roles, router, self.model, tests)

    @contextlib.contextmanager
    def located(self, entry: str, line: int | None,
                array: tuple[str, int] | None = None) -> Iterator[None]:
        """Compile errors inside become PolicyErrors at this entry's place in the file: the line
        of the key they are about where there is one (as the linter points there), else the
        entry's header."""
        try:
            yield
        except c.CompileError as error:
            if error.key is not None and array is not None:
                line = self.lines.entry_key(array[0], array[1], error.key) or line
            self.fail(error.message, entry=entry, line=line, fix=error.fix)

    def endpoint(self, endpoint: EndpointModel, catalogue: Catalogue, entry: str) -> list[c.Route]:
        template = c.PathTemplate.parse(endpoint.path)
        if endpoint.public and endpoint.principal_param is not None:
            raise c.CompileError(
                "`public = true` and `principal_param` contradict each other: a public route "
                "binds no user",
                "drop `principal_param`, or replace `public = true` with an `any_of`",
            )
        alternatives = _requirement(endpoint, template, catalogue)
        if endpoint.principal_param is not None:
            alternatives = c.bind_principal(
                endpoint.principal_param, alternatives, template, catalogue
            )
        return [
            c.Route(method, template, alternatives, origin=entry)
            for method in c.methods(endpoint.methods)
        ]

    def graphql(self, graphql: GraphQLModel, catalogue: Catalogue, entry: str) -> list[c.Route]:
        template = c.PathTemplate.parse(graphql.path)
        operations: dict[str, dict[str, tuple[c.Alternative, ...]]] = {}
        for operation in _GRAPHQL_OPERATIONS:
            fields: dict[str, FieldModel] = getattr(graphql, operation)
            compiled = {}
            for name, spec in fields.items():
                with self.located(f"{entry}.{operation}.{name}", None):
                    compiled[name] = _requirement(spec, template, catalogue)
            operations[operation] = compiled
        if not any(operations.values()):
            raise c.CompileError(
                "GraphQL endpoint lists no field",
                'add e.g. `[graphql.query.messages]` with `any_of = ["read:messages"]`',
            )
        route = c.GraphQLRoute(operations)
        return [
            c.Route(method, template, (), route, origin=entry) for method in c.methods(graphql.methods)
        ]

    # -- the catalogue -------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        principal = self.model.principal
        if not is_single_token(principal) or ":" in principal or "{" in principal:
            self.fail(
                f"principal {principal!r} must be one scope segment (no ':', spaces or braces)",
                entry="principal",
                line=self.lines.named_entry("", "principal"),
                fix='use e.g. principal = "user_id"',
            )
        specs = []
        for name, scope in self.model.scopes.items():
            entry, line = f"scopes.{name}", self.lines.named_entry("scopes", name)
            if not is_single_token(name) or "{" in name or "}" in name:
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
            with self.located(entry, line):
                roles[name] = c.role(text, catalogue)
        return roles

def _cases(
    models: list[PolicyTestModel], file: str, lines: _Lines
) -> tuple[PolicyCase, ...]:
    """Each `[[tests]]` table checked beyond its shape: a request that reads as `METHOD
    /path` (the target is the engine's to judge, `*` and `http://...` included), a deny code
    that exists."""
    cases = []
    for index, model in enumerate(models):
        entry, line = f"tests[{index}]", lines.array_entry("tests", index)
        parts = model.request.split(maxsplit=1)
        if len(parts) != 2:
            raise PolicyError(
                f'`request` must be "METHOD /path", not {model.request!r}',
                file=file, line=line, entry=entry, fix='write e.g. request = "GET /brands"',
            )
        code = None
        if model.code is not None:
            if model.code not in _DENY_CODES:
                close = difflib.get_close_matches(model.code, _DENY_CODES, 1, 0.6)
                raise PolicyError(
                    f"unknown deny code {model.code!r}"
                    + (f"; did you mean {close[0]!r}?" if close else ""),
                    file=file, line=line, entry=entry,
                    fix=f"use one of {', '.join(_DENY_CODES)}, or leave `code` out",
                )
            code = Code(model.code)
        cases.append(PolicyCase(
            line, model.name or entry, model.scope, parts[0], parts[1], model.body, model.expect,
            code,
        ))
    return tuple(cases)


def _requirement(
    spec: EndpointModel | FieldModel, template: c.PathTemplate, catalogue: Catalogue
) -> tuple[c.Alternative, ...]:
    if spec.authenticated:
        return c.ANY_TOKEN
    try:
        return c.requirement(spec.any_of or (), template, catalogue)
    except c.CompileError as error:
        error.key = error.key or "any_of"
        raise

