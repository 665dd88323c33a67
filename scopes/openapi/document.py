"""An OpenAPI document as read: JSON or YAML, its version, its local `$ref`s, and where a JSON
pointer is in its text.

Reading refuses what two readers could take differently: a repeated key (JSON's and PyYAML's
parsers keep the last silently, others the first), a `$ref` to another document (it is not
fetched; DESIGN.md, "Import"), a `$ref` that points nowhere or in a circle. Local references are
resolved with `referencing` (python-jsonschema's library: RFC 6901 pointers, percent-decoded
fragments, the same code `jsonschema` trusts), only where the importer reads a node.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from scopes._distribution import install_hint
from scopes.errors import PolicyError

__all__ = ["SUPPORTED", "Document", "OpenAPIError", "pointer", "read_document"]

SUPPORTED = ("3.0", "3.1")  # OpenAPI versions (major.minor) the importer reads
OPENAPI_HINT = install_hint("openapi")
_BASE_URI = "urn:scopes:openapi-document"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?\Z")


def __dir__() -> list[str]:
    return __all__


class OpenAPIError(PolicyError):
    """An OpenAPI document that cannot be imported: the file, the line where known, the JSON
    pointer of the node at fault (as `entry`, and as `pointer`), and a fix."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        pointer: str | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message, file=file, line=line, entry=pointer, fix=fix)
        self.pointer = pointer


def pointer(*tokens: str | int) -> str:
    """A JSON pointer (RFC 6901) as a URI fragment: `pointer("paths", "/a/{id}", "get")` is
    `#/paths/~1a~1{id}/get`."""
    return "#" + "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def _tokens(fragment: str) -> tuple[str, ...]:
    """The reference tokens of `#/a/b~1c` (undoing RFC 6901's escapes)."""
    if fragment in ("#", ""):
        return ()
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in fragment[2:].split("/"))


@dataclass(eq=False)
class Document:
    """A decoded OpenAPI 3.0 or 3.1 document.

    `text` is None for a document given as a dict (then no line is known). `version` is the
    `openapi` field, `minor` its "3.0" or "3.1".
    """

    data: dict[str, Any]
    file: str
    text: str | None
    version: str
    _resolver: Any = field(default=None, repr=False)
    _lines: dict[tuple[str | int | None, ...], int] | None = field(default=None, repr=False)

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def error(self, message: str, where: str | None, fix: str | None = None) -> OpenAPIError:
        """An OpenAPIError at a node of this document, its line looked up."""
        line = self.line(where) if where is not None else None
        return OpenAPIError(message, file=self.file, pointer=where, line=line, fix=fix)

    # -- references ------------------------------------------------------------------------------

    def resolve(self, node: object, where: str) -> tuple[object, str]:
        """Follow a Reference Object (and a chain of them) to the node it names.

        Returns the node and its own pointer (`where` when `node` is no reference). Remote,
        dangling and circular references are OpenAPIErrors naming the reference.
        """
        seen: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise self.error("`$ref` must be a string", where)
            if not ref.startswith("#"):
                raise self._remote(ref, where)
            if ref in seen:
                raise self.error(
                    f"$ref {ref!r} leads back to itself ({' -> '.join([*seen, ref])})",
                    where,
                    "point the reference at the object itself",
                )
            seen.append(ref)
            node = self._lookup(ref, where)
            where = pointer(*_tokens(unquote(ref)))
        return node, where

    def _lookup(self, ref: str, where: str) -> object:
        from referencing.exceptions import Unresolvable

        try:
            return self._registry().lookup(ref).contents
        except Unresolvable:
            raise self.error(
                f"$ref {ref!r} points to nothing in this document",
                where,
                "correct the JSON pointer (a '/' in a key is written '~1', a '~' is '~0')",
            ) from None

    def _registry(self) -> Any:
        if self._resolver is None:
            try:
                from referencing import Registry, Resource
            except ImportError:
                raise OpenAPIError(
                    "resolving $ref needs the `referencing` package",
                    file=self.file,
                    fix=OPENAPI_HINT,
                ) from None
            resource: Any = Resource.opaque(self.data)
            registry: Any = Registry().with_resource(_BASE_URI, resource)
            self._resolver = registry.resolver(base_uri=_BASE_URI)
        return self._resolver

    def _remote(self, ref: str, where: str) -> OpenAPIError:
        return self.error(
            f"$ref {ref!r} points outside this document; remote references are not fetched",
            where,
            "bundle the document into one file first (e.g. `redocly bundle`), so that every "
            "$ref starts with '#'",
        )

    def check_references(self) -> None:
        """Refuse a `$ref` to another document anywhere in it (DESIGN.md: an error naming it).

        Literal data is not read for references: `x-` extensions, `example`, `default`,
        `enum`, `const`, a schema's `examples` list and an Example Object's `value`.
        """
        for ref, where in _references(self.data):
            if not ref.startswith("#"):
                raise self._remote(ref, where)

    # -- lines -----------------------------------------------------------------------------------

    def line(self, where: str) -> int | None:
        """The 1-based line of the node a pointer names (for JSON, its opening brace; for YAML,
        its first line), or of its nearest ancestor found; None without text."""
        if self.text is None:
            return None
        if self._lines is None:
            self._lines = _line_table(self.text)
        tokens: tuple[str | int, ...] = _tokens(where)
        while tokens:
            found = self._lines.get(tokens)
            if found is not None:
                return found
            tokens = tokens[:-1]
        return None


_LITERAL_KEYS = frozenset({"example", "default", "enum", "const"})


def _references(data: object) -> Iterator[tuple[str, str]]:
    """Every `$ref` string, in document order, with the pointer of the object holding it;
    literal data skipped (see `Document.check_references`)."""
    stack: list[tuple[object, tuple[str | int, ...], bool]] = [(data, (), False)]
    while stack:
        node, path, example = stack.pop()  # example: an Example Object, whose `value` is data
        children: list[tuple[object, tuple[str | int, ...], bool]] = []
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref, pointer(*path)
            for key, value in node.items():
                if not isinstance(key, str) or key.startswith("x-") or key in _LITERAL_KEYS:
                    continue
                if example and key == "value":
                    continue
                if key == "examples":
                    if isinstance(value, dict):  # a map of Example Objects (a list: literal values)
                        children += [(v, (*path, key, k), True) for k, v in value.items()]
                    continue
                children.append((value, (*path, key), False))
        elif isinstance(node, list):
            children = [(item, (*path, index), False) for index, item in enumerate(node)]
        stack.extend(reversed(children))


def _line_table(text: str) -> dict[tuple[str | int | None, ...], int]:
    """Line of every mapping and list in the document, by its path of keys and indexes."""
    from scopes.lint._scan import scan_json, scan_yaml

    if text.lstrip().startswith("{"):
        found = scan_json(text, None)
        strip = 0
    else:
        _yaml_module(None)  # PyYAML is there, or the error says how to install it
        found = scan_yaml(text, None)
        strip = 1  # the document's index in the stream
    starts = _line_starts(text)
    table: dict[tuple[str | int | None, ...], int] = {}
    for item in found:
        if item.kind in ("map", "list"):
            path = item.path[strip:]
            table.setdefault(path, bisect.bisect_right(starts, item.start))
    return table


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


# -- reading -------------------------------------------------------------------------------------


def read_document(source: str | Path | Mapping[str, Any]) -> Document:
    """Read an OpenAPI document from a file (JSON or YAML, by content) or take a decoded one.

    Raises OpenAPIError for a file that cannot be read or parsed, a repeated key, a document
    that is not OpenAPI 3.0 or 3.1, and a `$ref` to another document.
    """
    if isinstance(source, Mapping):
        data, file, text = dict(source), "<dict>", None
    else:
        file = str(source)
        text = read_text(Path(source), file)
        data = _parse(text, file)
    document = Document(data, file, text, _version(data, file, text))
    document.check_references()
    return document


def read_text(
    path: Path,
    file: str,
    *,
    error: type[PolicyError] = OpenAPIError,
    encoding_fix: str = "save it as UTF-8 (OpenAPI documents are JSON or YAML in UTF-8)",
) -> str:
    """A file's text (UTF-8, a BOM dropped), or `error` saying in plain words why not."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", file=file, fix="check the path") from None
    except IsADirectoryError:
        raise error("is a directory", file=file, fix="name a file") from None
    except OSError as failure:
        raise error(f"cannot read the file: {failure.strerror}", file=file) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as failure:
        raise error(
            f"the file is not UTF-8 ({failure.reason} at byte {failure.start})",
            file=file,
            fix=encoding_fix,
        ) from None


def _parse(text: str, file: str) -> dict[str, Any]:
    """JSON when it starts with '{', else YAML; a repeated key is an error in both."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text, object_pairs_hook=_unique_pairs)
        except _RepeatedKey as repeated:
            raise OpenAPIError(
                f"key {repeated.key!r} appears twice in one object; readers disagree on which "
                "one counts",
                file=file,
                fix="keep one of them",
            ) from None
        except json.JSONDecodeError as error:
            raise OpenAPIError(
                f"invalid JSON: {error.msg} (column {error.colno})", file=file, line=error.lineno
            ) from None
        except RecursionError:
            raise OpenAPIError("the JSON is nested too deeply to read", file=file) from None
    else:
        data = _parse_yaml(text, file)
    if not isinstance(data, dict):
        raise OpenAPIError(
            "an OpenAPI document is a mapping at the top (with `openapi: 3.x.y`)", file=file
        )
    return data


class _RepeatedKey(ValueError):
    def __init__(self, key: object, line: int | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKey(key)
        result[key] = value
    return result


def _yaml_module(file: str | None) -> Any:
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise OpenAPIError(
            "reading YAML needs PyYAML", file=file or "<document>", fix=OPENAPI_HINT
        ) from None
    return yaml


def _parse_yaml(text: str, file: str) -> object:
    yaml = _yaml_module(file)
    loader = _unique_loader(yaml)
    try:
        return yaml.load(text, Loader=loader)
    except _RepeatedKey as repeated:
        raise OpenAPIError(
            f"key {repeated.key!r} appears twice in one mapping; readers disagree on which one "
            "counts",
            file=file,
            line=repeated.line,
            fix="keep one of them",
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise OpenAPIError(f"invalid YAML: {error.problem or error}", file=file, line=line) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise OpenAPIError(f"invalid YAML: {error}", file=file) from None


_LOADERS: dict[int, Any] = {}


def _unique_loader(yaml: Any) -> Any:
    """PyYAML's safe loader (libyaml's where built), refusing a key written twice in a mapping."""
    cached = _LOADERS.get(id(yaml))
    if cached is not None:
        return cached
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[object] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    repeated = key in seen
                except TypeError:
                    continue  # an unhashable key: PyYAML refuses it itself
                if repeated:
                    raise _RepeatedKey(key, key_node.start_mark.line + 1)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    _LOADERS[id(yaml)] = UniqueKeyLoader
    return UniqueKeyLoader


def _version(data: dict[str, Any], file: str, text: str | None) -> str:
    version = data.get("openapi")
    if version is None:
        if "swagger" in data:
            raise OpenAPIError(
                f"this is a Swagger {data['swagger']} document; only OpenAPI 3.0 and 3.1 are read",
                file=file,
                pointer="#/swagger",
                fix="convert it to OpenAPI 3 first (e.g. with swagger2openapi)",
            )
        raise OpenAPIError(
            "not an OpenAPI document: no `openapi` field",
            file=file,
            fix="give an OpenAPI 3.0 or 3.1 document (`openapi: 3.1.0` at the top)",
        )
    if not isinstance(version, str) or _VERSION.match(version) is None:
        raise OpenAPIError(
            f"`openapi` must be a version string such as \"3.1.0\", not {version!r}",
            file=file,
            pointer="#/openapi",
            fix='quote it in YAML: openapi: "3.1.0"',
        )
    if ".".join(version.split(".")[:2]) not in SUPPORTED:
        raise OpenAPIError(
            f"OpenAPI {version} is not supported; only 3.0.x and 3.1.x are read",
            file=file,
            pointer="#/openapi",
        )
    return version
