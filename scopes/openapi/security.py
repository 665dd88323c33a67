"""What an operation's `security` means, read exactly as the OpenAPI specification defines it.

OpenAPI 3.0.3 and 3.1.0, "Security Requirement Object" and the Operation Object's `security`:
- the `security` list holds alternatives: "only one of the Security Requirement Objects in the
  list needs to be satisfied";
- one requirement object "MAY refer to multiple security schemes in which case all schemes MUST
  be satisfied", and for OAuth2 / OpenID Connect every scope it lists is required: AND;
- an operation's `security` "overrides" the document's: it replaces it, it is not merged;
  `security: []` removes security; an empty object `{}` makes anonymous access one alternative.
For other scheme types the listed names are role names (3.1; 3.0 asks for an empty list, and a
list there is read the same way, which can only narrow). A requirement listing no names asks
for any valid credential of the scheme: `authenticated`, unless `--scheme-scope` says which
scope stands for holding one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from scopes.openapi.document import Document, pointer

__all__ = ["Requirement", "Scheme", "Unenforceable", "read_schemes", "requirement"]

Origin = Literal["scope", "role", "scheme-scope"]
_FLOWS = ("implicit", "password", "clientCredentials", "authorizationCode", "deviceAuthorization")
_TYPES = ("apiKey", "http", "oauth2", "openIdConnect", "mutualTLS")


def __dir__() -> list[str]:
    return __all__


class Unenforceable(Exception):
    """A requirement the engine cannot decide exactly (importing it would widen or guess)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True, slots=True)
class Scheme:
    """A Security Scheme Object, as far as deciding on a request goes."""

    name: str
    type: str
    where: str  # the pointer of its definition
    location: str | None = None  # an API key's `in`: header, query or cookie
    key: str | None = None  # an API key's header, query parameter or cookie name
    http: str | None = None  # an HTTP scheme's `scheme`: bearer, basic, ...
    scopes: tuple[tuple[str, str], ...] = ()  # OAuth2 scopes declared by its flows

    @property
    def names_scopes(self) -> bool:
        """Whether a requirement's names are OAuth scopes (else they are role names)."""
        return self.type in ("oauth2", "openIdConnect")

    @property
    def kind(self) -> str:
        """The scheme in words, for descriptions and messages."""
        if self.type == "apiKey":
            return f"API key in {self.location} {self.key!r}"
        if self.type == "http":
            return f"HTTP {self.http}"
        return {"oauth2": "OAuth2", "openIdConnect": "OpenID Connect"}.get(self.type, "mutual TLS")

    def unenforceable(self) -> Unenforceable | None:
        """Why the engine cannot stand in for this scheme, or None (DESIGN.md, "Import")."""
        skip = "or give --skip-unsupported to leave out the operations that need it"
        if self.type == "apiKey" and self.location == "query":
            return Unenforceable(
                f"security scheme {self.name!r} is an API key in the query parameter "
                f"{self.key!r}: the engine decides on bearer tokens and never reads a credential "
                "from a query string (RFC 6750 §2.3: they end up in logs)",
                f"send it in a header instead, {skip}",
            )
        if self.type == "apiKey" and self.location == "cookie":
            return Unenforceable(
                f"security scheme {self.name!r} is an API key in the cookie {self.key!r}: the "
                "engine decides on bearer tokens and reads no cookie",
                f"send it in a header instead, {skip}",
            )
        if self.type == "mutualTLS":
            return Unenforceable(
                f"security scheme {self.name!r} is mutual TLS: a client certificate, which the "
                "engine never sees",
                f"check the certificate at the TLS terminator, {skip}",
            )
        return None


def read_schemes(document: Document) -> dict[str, Scheme]:
    """`components.securitySchemes`, each one checked (a Reference Object is followed)."""
    components = document.data.get("components", {})
    if not isinstance(components, dict):
        raise document.error("`components` must be a mapping", "#/components")
    where = pointer("components", "securitySchemes")
    defined = components.get("securitySchemes", {})
    if not isinstance(defined, dict):
        raise document.error("`securitySchemes` must be a mapping of names to schemes", where)
    schemes = {}
    for name, node in defined.items():
        at = pointer("components", "securitySchemes", str(name))
        node, at = document.resolve(node, at)
        if not isinstance(name, str) or not isinstance(node, dict):
            raise document.error("a security scheme is a mapping under its name", at)
        schemes[name] = _scheme(document, name, node, at)
    return schemes


def _scheme(document: Document, name: str, node: dict[object, object], at: str) -> Scheme:
    kind = node.get("type")
    if kind not in _TYPES:
        raise document.error(
            f"security scheme {name!r} has type {kind!r}; OpenAPI defines "
            + ", ".join(repr(t) for t in _TYPES),
            at,
        )
    assert isinstance(kind, str)
    if kind == "apiKey":
        location, key = node.get("in"), node.get("name")
        if location not in ("header", "query", "cookie") or not isinstance(key, str):
            raise document.error(
                f"API key scheme {name!r} needs `in` (header, query or cookie) and a `name`", at
            )
        assert isinstance(location, str)
        return Scheme(name, kind, at, location=location, key=key)
    if kind == "http":
        http = node.get("scheme")
        if not isinstance(http, str) or not http:
            raise document.error(f"HTTP scheme {name!r} needs `scheme` (e.g. bearer)", at)
        return Scheme(name, kind, at, http=http.lower())
    if kind == "oauth2":
        return Scheme(name, kind, at, scopes=_declared_scopes(document, name, node, at))
    return Scheme(name, kind, at)


def _declared_scopes(
    document: Document, name: str, node: dict[object, object], at: str
) -> tuple[tuple[str, str], ...]:
    """Every flow's `scopes` map, in flow order; a scope's first non-empty description wins."""
    flows = node.get("flows")
    if not isinstance(flows, dict):
        raise document.error(f"OAuth2 scheme {name!r} needs `flows`", at)
    found: dict[str, str] = {}
    for flow in _FLOWS:
        spec = flows.get(flow)
        if spec is None:
            continue
        scopes = spec.get("scopes", {}) if isinstance(spec, dict) else None
        if not isinstance(scopes, dict):
            raise document.error(
                f"the {flow} flow's `scopes` must map scope names to descriptions",
                f"{at}/flows/{flow}",
            )
        for scope, description in scopes.items():
            if not isinstance(scope, str):
                raise document.error(
                    f"scope name {scope!r} must be a string (quote it in YAML)",
                    f"{at}/flows/{flow}/scopes",
                )
            text = description if isinstance(description, str) else ""
            if not found.get(scope):
                found[scope] = " ".join(text.split())
    return tuple(found.items())


@dataclass(frozen=True, slots=True)
class Requirement:
    """An operation's security as alternatives of conjunctions of scope names.

    `public`: anonymous access is allowed. Otherwise each alternative lists the names it
    needs, in the order written, once each; an alternative with no names is met by any valid
    token (`authenticated`). `origins` says where each name comes from, for the catalogue.
    """

    public: bool
    alternatives: tuple[tuple[str, ...], ...] = ()
    origins: tuple[tuple[str, str, Origin], ...] = ()  # (name, scheme, origin)

    @property
    def authenticated(self) -> bool:
        return not self.public and any(not names for names in self.alternatives)


PUBLIC = Requirement(True)


def requirement(
    document: Document,
    security: object,
    where: str,
    schemes: Mapping[str, Scheme],
    scheme_scopes: Mapping[str, str],
) -> Requirement:
    """What a `security` list (the operation's, or the document's in its stead) requires.

    Raises OpenAPIError for a malformed list or an undefined scheme (every alternative is
    checked), and Unenforceable when the operation is not public and an alternative needs a
    scheme the engine cannot stand in for.
    """
    if not isinstance(security, list):
        raise document.error(
            "`security` must be a list of security requirement objects", where,
            "write e.g. `security: [{oauth: [read:things]}]`; `[]` for none",
        )
    public = not security
    alternatives: list[tuple[str, ...]] = []
    origins: dict[str, tuple[str, str, Origin]] = {}
    problem: Unenforceable | None = None
    for index, item in enumerate(security):
        at = f"{where}/{index}"
        if not isinstance(item, dict):
            raise document.error("a security requirement is a mapping of scheme names to lists", at)
        if not item:
            public = True  # `{}`: anonymous access is one of the alternatives
        needed: dict[str, None] = {}
        for name, names in item.items():
            scheme = schemes.get(name) if isinstance(name, str) else None
            if scheme is None:
                defined = ", ".join(repr(n) for n in schemes) or "none"
                raise document.error(
                    f"security scheme {name!r} is not defined in components.securitySchemes",
                    at,
                    f"define it, or use one that is (defined: {defined})",
                )
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise document.error(
                    f"the requirement of scheme {name!r} must be a list of names", at,
                    f"write `{name}: []` for any valid credential of the scheme",
                )
            problem = problem or scheme.unenforceable()
            origin: Origin = "scope" if scheme.names_scopes else "role"
            for text in names:
                needed[text] = None
                origins.setdefault(text, (text, name, origin))
            mapped = scheme_scopes.get(name)
            if mapped is not None:
                needed[mapped] = None
                origins.setdefault(mapped, (mapped, name, "scheme-scope"))
        alternatives.append(tuple(needed))
    if public:
        return PUBLIC
    if problem is not None:
        raise problem
    distinct: dict[frozenset[str], tuple[str, ...]] = {}
    for names in alternatives:
        distinct.setdefault(frozenset(names), names)
    return Requirement(False, tuple(distinct.values()), tuple(origins.values()))
