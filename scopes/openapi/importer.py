"""Every operation of an OpenAPI document as an endpoint row of a policy (DESIGN.md, "Import").

One row per operation: its method, its path template with the document's parameter names, what
its `security` requires (scopes.openapi.security reads it), and a description from its
`operationId` and `summary`. What the engine cannot enforce exactly is never approximated: the
operation is an `Omitted` record naming its JSON pointer, an error unless `skip_unsupported`.
The policy is loaded before it is handed over, so an import that succeeds is a policy that loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scopes.errors import PolicyError
from scopes.openapi.document import Document, OpenAPIError, pointer, read_document
from scopes.openapi.security import (
    Requirement,
    Scheme,
    Unenforceable,
    read_schemes,
    requirement,
)
from scopes.policy.compile import CompileError, PathTemplate
from scopes.policy.load import LoadedPolicy, load_policy_dict
from scopes.syntax import is_single_token

__all__ = ["METHODS", "Imported", "Omitted", "UnsupportedError", "import_openapi"]

# The Path Item Object's operations, in the order the specification lists them.
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PRINCIPALS = ("user_id", "principal", "principal_id")  # the first no scope name clashes with
SKIP_HINT = "--skip-unsupported leaves such operations out and lists them"


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True)
class Omitted:
    """An operation that is not in the policy, and why.

    `kind` is "no-security" (no `security` applies to it; `public_by_default` would import it as
    public) or "unsupported" (the engine cannot enforce what it requires exactly).
    """

    kind: Literal["no-security", "unsupported"]
    method: str
    path: str
    where: str  # the operation's JSON pointer
    message: str
    fix: str

    @property
    def rule(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return f"{self.rule} ({self.where}): {self.message}"


class UnsupportedError(OpenAPIError):
    """Operations whose requirements the engine cannot enforce exactly; `unsupported` lists
    every one (the message is the first's), `document` is where they are."""

    def __init__(self, document: Document, unsupported: tuple[Omitted, ...]) -> None:
        first = unsupported[0]
        more = len(unsupported) - 1
        message = f"{first.rule}: {first.message}"
        if more:
            message += f" (and {more} more operation{'s' if more > 1 else ''})"
        line = document.line(first.where)
        super().__init__(
            message, file=document.file, pointer=first.where, line=line, fix=first.fix
        )
        self.document = document
        self.unsupported = unsupported


@dataclass(frozen=True, slots=True, eq=False)
class Imported:
    """An imported policy: the data `Policy.from_dict` takes, already loaded, and what was
    left out. `pointers[i]` is the operation behind `data["endpoints"][i]`."""

    document: Document
    data: dict[str, Any]
    loaded: LoadedPolicy
    pointers: tuple[str, ...]
    left_out: tuple[Omitted, ...]
    skipped: tuple[Omitted, ...]
    notes: tuple[str, ...]

    def toml(self) -> str:
        """The policy as TOML: the same document gives the same bytes."""
        from scopes.openapi.render import policy_toml

        return policy_toml(self)

    def line_of(self, entry: str) -> int | None:
        """The document's line for a policy entry such as `endpoints[3]` (a Route's origin)."""
        match = re.fullmatch(r"endpoints\[(\d+)\]", entry)
        if match is None or int(match.group(1)) >= len(self.pointers):
            return None
        return self.document.line(self.pointers[int(match.group(1))])


def import_openapi(
    source: str | Path | Mapping[str, Any],
    *,
    scheme_scopes: Mapping[str, str] | None = None,
    public_by_default: bool = False,
    skip_unsupported: bool = False,
) -> Imported:
    """Import an OpenAPI 3.0 or 3.1 document (a JSON or YAML file, or a decoded dict).

    `scheme_scopes` maps a security scheme to the scope that stands for any valid credential of
    it (`--scheme-scope`). Raises OpenAPIError for a document that cannot be read or means
    nothing exact, and UnsupportedError (one) listing every operation the engine cannot enforce
    exactly, unless `skip_unsupported`.
    """
    document = read_document(source)
    return _Importer(document, dict(scheme_scopes or {}), public_by_default).run(skip_unsupported)


@dataclass(slots=True)
class _Row:
    method: str
    path: str  # as the document writes it
    where: str
    template: PathTemplate
    requirement: Requirement
    any_of: tuple[str, ...]
    description: str
    qualifiers: tuple[tuple[str, str], ...]  # (scope name, qualifier name) of its placeholders


class _Importer:
    def __init__(
        self, document: Document, scheme_scopes: dict[str, str], public_by_default: bool
    ) -> None:
        self.document = document
        self.schemes = read_schemes(document)
        self.scheme_scopes = self._checked_scheme_scopes(scheme_scopes)
        self.public_by_default = public_by_default
        self.omitted: list[Omitted] = []
        self.notes: list[str] = []

    def _checked_scheme_scopes(self, scheme_scopes: dict[str, str]) -> dict[str, str]:
        for scheme, scope in scheme_scopes.items():
            if scheme not in self.schemes:
                defined = ", ".join(self.schemes) or "none"
                raise OpenAPIError(
                    f"--scheme-scope names {scheme!r}, which is no security scheme of the "
                    f"document (defined: {defined})",
                    file=self.document.file,
                    fix="name a scheme under components.securitySchemes",
                )
            if not is_single_token(scope) or "{" in scope or "}" in scope:
                raise OpenAPIError(
                    f"--scheme-scope {scheme}={scope}: {scope!r} is not one scope token",
                    file=self.document.file,
                    fix="give one scope such as `openid:credentials` (no spaces, no placeholder)",
                )
        return scheme_scopes

    def omit(self, kind: Literal["no-security", "unsupported"], method: str, path: str,
             where: str, message: str, fix: str) -> None:
        self.omitted.append(Omitted(kind, method, path, where, message, fix))

    # -- operations -----------------------------------------------------------------------------

    def run(self, skip_unsupported: bool) -> Imported:
        data = self.document.data
        root = data.get("security")
        if root is not None:
            try:  # its shape and its schemes are checked even where every operation has its own
                requirement(self.document, root, "#/security", self.schemes, self.scheme_scopes)
            except Unenforceable:
                pass  # said of each operation that it applies to
        rows = self._distinguishable(list(self._rows(root)))
        while True:
            policy = self._policy(rows)
            try:
                loaded = load_policy_dict(policy, file=self.document.file)
            except PolicyError as error:
                rows = self._refused(rows, error)
                continue
            break
        unsupported = tuple(o for o in self.omitted if o.kind == "unsupported")
        if unsupported and not skip_unsupported:
            raise UnsupportedError(self.document, unsupported)
        return Imported(
            self.document,
            policy,
            loaded,
            tuple(row.where for row in rows),
            tuple(o for o in self.omitted if o.kind == "no-security"),
            unsupported,
            tuple(self.notes),
        )

    def _rows(self, root: object) -> Iterator[_Row]:
        data = self.document.data
        paths = data.get("paths", {})
        if not isinstance(paths, dict):
            raise self.document.error("`paths` must be a mapping", "#/paths")
        for path, raw in paths.items():
            where = pointer("paths", str(path))
            if not isinstance(path, str) or not path.startswith("/"):
                raise self.document.error(
                    f"path {path!r} must start with '/'", where, "write it as '/...'"
                )
            item, conflicts = self._path_item(raw, where)
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                at = pointer("paths", path, method)
                if method in conflicts:
                    self.omit(
                        "unsupported", method.upper(), path, at,
                        f"{method} is defined both beside the path item's $ref and in the path "
                        "item it references; OpenAPI leaves which one counts undefined",
                        f"keep one of the two, or {SKIP_HINT}",
                    )
                    continue
                row = self._row(method.upper(), path, at, operation, root)
                if row is not None:
                    yield row

    def _path_item(self, raw: object, where: str) -> tuple[dict[str, Any], frozenset[str]]:
        """The path item (a `$ref` followed, its siblings beside it), and the operations that
        are written both beside a `$ref` and in its target."""
        if not isinstance(raw, dict):
            raise self.document.error("a path item must be a mapping", where)
        if "$ref" not in raw:
            return raw, frozenset()
        target, _ = self.document.resolve(raw, where)
        if not isinstance(target, dict):
            raise self.document.error("a path item's $ref must point to a path item", where)
        beside = {key: value for key, value in raw.items() if key != "$ref"}
        conflicts = frozenset(key for key in beside if key in target and key in METHODS)
        return {**target, **beside}, conflicts

    def _row(
        self, method: str, path: str, where: str, operation: object, root: object
    ) -> _Row | None:
        if not isinstance(operation, dict) or "$ref" in operation:
            raise self.document.error(
                "an operation must be an Operation Object (a mapping; it cannot be a $ref)", where
            )
        template, names = _template(path)
        try:
            parsed = PathTemplate.parse(template)
        except CompileError as error:
            self.omit("unsupported", method, path, where,
                      f"the path cannot be matched exactly: {error.message}",
                      f"{error.fix}; or {SKIP_HINT}" if error.fix else SKIP_HINT)
            return None
        if "security" in operation:
            security, security_where = operation["security"], f"{where}/security"
        elif root is not None:
            security, security_where = root, "#/security"
        elif self.public_by_default:
            security, security_where = [], where
        else:
            self.omit(
                "no-security", method, path, where,
                "no security requirement applies (none on the operation, none on the document)",
                "give it `security` (`security: []` if it is public), or --public-by-default "
                "to import such operations as public",
            )
            return None
        try:
            needs = requirement(
                self.document, security, security_where, self.schemes, self.scheme_scopes
            )
            any_of, qualifiers = self._any_of(needs, path, names)
        except Unenforceable as problem:
            self.omit("unsupported", method, path, where, problem.message,
                      problem.fix if "skip-unsupported" in problem.fix else
                      f"{problem.fix}; or {SKIP_HINT}")
            return None
        return _Row(method, path, where, parsed, needs, any_of, _description(operation), qualifiers)

    def _any_of(
        self, needs: Requirement, path: str, names: dict[str, str]
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The requirement's alternatives as `any_of` scope strings, placeholders renamed to
        the template's parameter names (Unenforceable for one that names no path parameter)."""
        if needs.public or needs.authenticated:
            return (), ()
        strings = []
        qualifiers: dict[str, str] = {}
        for alternative in needs.alternatives:
            words = []
            for name in alternative:
                base, param = _scope_name(name)
                if param is None:
                    words.append(name)
                    continue
                renamed = names.get(param)
                if renamed is None:
                    raise Unenforceable(
                        f"scope {name!r} has the placeholder {{{param}}}, which is no path "
                        f"parameter of {path} (its parameters: "
                        f"{', '.join('{' + n + '}' for n in names) or 'none'})",
                        "name one of the path's parameters",
                    )
                qualifiers.setdefault(base, param)
                words.append(f"{base}:{{{renamed}}}")
            strings.append(" ".join(words))
        return tuple(strings), tuple(qualifiers.items())

    def _distinguishable(self, rows: list[_Row]) -> list[_Row]:
        """Rows whose (method, path shape) no other row shares; the others are unsupported
        (no request can tell them apart: `/pets/{id}` is `/pets/{name}`)."""
        groups: dict[tuple[str, tuple[str | None, ...]], list[_Row]] = {}
        for row in rows:
            groups.setdefault((row.method, row.template.key), []).append(row)
        kept = []
        for row in rows:
            group = groups[(row.method, row.template.key)]
            if len(group) == 1:
                kept.append(row)
                continue
            others = ", ".join(f"{o.method} {o.path} ({o.where})" for o in group if o is not row)
            self.omit(
                "unsupported", row.method, row.path, row.where,
                f"no request can tell it from {others}: the paths differ only in their "
                "parameters' names",
                f"keep one of them, or {SKIP_HINT}",
            )
        return kept

    def _refused(self, rows: list[_Row], error: PolicyError) -> list[_Row]:
        """The rows without the one the policy loader refused (it names the entry)."""
        match = re.fullmatch(r"endpoints\[(\d+)\]", error.entry or "")
        if match is None or int(match.group(1)) >= len(rows):
            raise OpenAPIError(
                f"the imported policy does not load: {error.message}",
                file=self.document.file,
                fix=error.fix,
            ) from None
        row = rows[int(match.group(1))]
        self.omit("unsupported", row.method, row.path, row.where, error.message,
                  f"{error.fix}; or {SKIP_HINT}" if error.fix else SKIP_HINT)
        return [r for r in rows if r is not row]

    # -- the policy -----------------------------------------------------------------------------

    def _policy(self, rows: list[_Row]) -> dict[str, Any]:
        catalogue = self._catalogue(rows)
        principal = next(
            (p for p in PRINCIPALS if not any(n == p or n.startswith(p + ":") for n in catalogue)),
            None,
        )
        if principal is None:
            raise OpenAPIError(
                "every principal name this importer uses is also a scope of the document",
                file=self.document.file,
            )
        endpoints = []
        for row in rows:
            endpoint: dict[str, Any] = {"methods": [row.method], "path": row.template.text}
            if row.requirement.public:
                endpoint["public"] = True
            elif row.requirement.authenticated:
                endpoint["authenticated"] = True
            else:
                endpoint["any_of"] = list(row.any_of)
            if row.description:
                endpoint["description"] = row.description
            endpoints.append(endpoint)
        info = self.document.data.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        name = _text(title) if isinstance(title, str) and title.strip() else "openapi"
        policy: dict[str, Any] = {"version": 1, "name": name, "principal": principal}
        if catalogue:
            policy["scopes"] = catalogue
        policy["endpoints"] = endpoints
        return policy

    def _catalogue(self, rows: list[_Row]) -> dict[str, dict[str, str]]:
        """Every scope the document declares or requires, with its description, by name."""
        described: dict[str, str] = {}
        for scheme in self.schemes.values():
            for name, description in scheme.scopes:
                described.setdefault(
                    name, description or f"OAuth2 scope of security scheme {scheme.name!r}"
                )
        for row in rows:
            for name, scheme_name, origin in row.requirement.origins:
                described.setdefault(name, _origin(name, self.schemes[scheme_name], origin))
        qualifiers: dict[str, str] = {}
        for row in rows:
            for qualified, qualifier in row.qualifiers:
                qualifiers.setdefault(qualified, qualifier)
        entries: dict[str, dict[str, str]] = {}
        for name in sorted(described):
            entry_name, param = _checked_name(name, self.notes)
            if entry_name is None:
                continue
            entry = entries.setdefault(entry_name, {})
            if (param is None or not entry.get("description")) and described[name]:
                entry["description"] = _text(described[name])
        for base, qualifier in qualifiers.items():
            entries.setdefault(base, {})["qualifier"] = _identifier(qualifier)[:64]
        for base in qualifiers:
            for name in entries:
                if name != base and name.startswith(base + ":"):
                    raise OpenAPIError(
                        f"scope {name!r} would read as {base!r} with the qualifier "
                        f"{name[len(base) + 1:]!r}, since a placeholder scope makes {base!r} "
                        f"take a qualifier: a token with {base!r} would then meet it",
                        file=self.document.file,
                        fix=f"rename {name!r}, or drop the placeholder scopes of {base!r}",
                    )
        return {name: entries[name] for name in sorted(entries)}


def _origin(name: str, scheme: Scheme, origin: str) -> str:
    if origin == "role":
        return f"role {name!r} of security scheme {scheme.name!r} ({scheme.kind})"
    if origin == "scheme-scope":
        return (
            f"any valid credential of security scheme {scheme.name!r} ({scheme.kind}), "
            "by --scheme-scope"
        )
    return f"scope of security scheme {scheme.name!r} ({scheme.kind})"


# -- names ---------------------------------------------------------------------------------------



def _scope_name(name: str) -> tuple[str, str | None]:
    """A required name as (catalogue name, placeholder or None); Unenforceable if it cannot be
    one scope token (`read:things:{id}` is `read:things` with the placeholder `id`)."""
    if not is_single_token(name):
        raise Unenforceable(
            f"{name!r} is not one well-formed scope token (RFC 6749 §3.3: printable ASCII "
            "without spaces, '\"' or '\\'; no empty ':' segment), so no token can carry it",
            "rename the scope",
        )
    if "{" not in name and "}" not in name:
        return name, None
    base, _, last = name.rpartition(":")
    if (
        base
        and "{" not in base
        and "}" not in base
        and len(last) > 2
        and last[0] == "{"
        and last[-1] == "}"
        and "{" not in last[1:-1]
        and "}" not in last[1:-1]
    ):
        return base, last[1:-1]
    raise Unenforceable(
        f"scope {name!r} has a brace that is not a placeholder: a placeholder is the whole last "
        "segment, as in read:things:{id}",
        "rename the scope",
    )


def _checked_name(name: str, notes: list[str]) -> tuple[str | None, str | None]:
    """A declared or required name as a catalogue entry, or (None, None) with a note."""
    try:
        return _scope_name(name)
    except Unenforceable as problem:
        notes.append(f"scope {name!r} is not in the catalogue: {problem.message}")
        return None, None


def _identifier(name: str) -> str:
    """A name as a Python-style identifier (path parameters and qualifiers must be one)."""
    if name.isidentifier() and name.isascii():
        return name
    cleaned = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"p_{cleaned}"


def _template(path: str) -> tuple[str, dict[str, str]]:
    """The policy template for a document path, and each parameter's name in it.

    A name that is not an identifier (`{pet-id}`) is renamed (`{pet_id}`): the template
    matches the same requests, and placeholders follow the rename.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    segments = []
    for segment in path.split("/"):
        if len(segment) > 2 and segment[0] == "{" and segment[-1] == "}" and (
            "{" not in segment[1:-1] and "}" not in segment[1:-1]
        ):
            spec = segment[1:-1]
            name = _identifier(spec)
            while name in taken and names.get(spec) != name:
                name += "_"
            taken.add(name)
            names.setdefault(spec, name)
            segments.append("{" + name + "}")
        else:
            segments.append(segment)
    return "/".join(segments), names


def _text(value: str) -> str:
    """One line of text for a description or a name: whitespace runs as one space, lone
    surrogates (which no file can hold) as U+FFFD."""
    cleaned = " ".join(value.split())
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in cleaned)


def _description(operation: dict[str, Any]) -> str:
    parts = [
        _text(value)
        for value in (operation.get("operationId"), operation.get("summary"))
        if isinstance(value, str) and value.strip()
    ]
    return ": ".join(parts)
