"""An imported policy as TOML text: deterministic (the same document gives the same bytes), in
the shape of the bundled courier.toml, with what was left out said in comments.

Written by hand rather than by a TOML library: the shape is fixed (strings, booleans, arrays
of strings, tables), and each string is escaped as TOML 1.0 requires (section "String": `"`,
`\\` and the control characters but tab). `tomllib.loads(policy_toml(i)) == i.data` holds; a
test keeps it so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scopes.openapi.importer import Imported, Omitted

__all__ = ["data_toml", "policy_toml", "toml_string"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}
_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def __dir__() -> list[str]:
    return __all__


def toml_string(text: str) -> str:
    """A TOML basic string holding exactly `text` (a lone surrogate, which UTF-8 cannot hold,
    is refused)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written to a TOML file")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _key(name: str) -> str:
    return name if name and all(ch in _BARE_KEY for ch in name) else toml_string(name)


def _value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _comment(text: str) -> str:
    """Text that a TOML comment can hold: one line, no control character but tab."""
    return "".join(ch if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F) else "?"
                   for ch in " ".join(text.split()))


def _omitted(title: str, omitted: tuple[Omitted, ...], why: bool) -> list[str]:
    if not omitted:
        return []
    lines = ["#", f"# {title}"]
    for o in omitted:
        reason = f": {_comment(o.message)}" if why else ""
        lines.append(f"#   {_comment(o.rule)} ({_comment(o.where)}){reason}")
    return lines


def policy_toml(imported: Imported) -> str:
    """The policy file: a header naming the document, then version, name, principal, the scope
    catalogue (by name) and one `[[endpoints]]` table per operation (in document order)."""
    document = imported.document
    data = imported.data
    source = PurePath(document.file).name if document.text is not None else document.file
    info = document.data.get("info")
    version = info.get("version") if isinstance(info, dict) else None
    about = f"OpenAPI {document.version}"
    if isinstance(version, str) and version.strip():
        about += f", API version {version.strip()}"
    lines = [
        f"# Imported by `scopes import-openapi` from {_comment(source)} ({_comment(about)}).",
        "# Regenerate it rather than edit it; `scopes diff OLD NEW` shows what a change widens.",
    ]
    lines += _omitted(
        "Left out: no security requirement applies (--public-by-default imports them as public):",
        imported.left_out,
        False,
    )
    lines += _omitted("Left out by --skip-unsupported:", imported.skipped, True)
    if imported.notes:
        lines += ["#"] + [f"# Note: {_comment(note)}" for note in imported.notes]
    return "\n".join(lines) + "\n\n" + data_toml(data)


def data_toml(data: Mapping[str, Any]) -> str:
    """A policy's data (what `Policy.from_dict` takes: version, name, principal where given, a
    `scopes` catalogue, `endpoints`) as TOML, in the data's order."""
    lines = [f"{key} = {_value(data[key])}" for key in ("version", "name", "principal")
             if key in data]
    if not data["endpoints"]:
        lines.append("endpoints = []")  # before any table: a top-level key
    for name, entry in data.get("scopes", {}).items():
        lines += ["", f"[scopes.{_key(name)}]"]
        lines += [f"{key} = {_value(value)}" for key, value in entry.items()]
    for endpoint in data["endpoints"]:
        lines += ["", "[[endpoints]]"]
        lines += [f"{key} = {_value(value)}" for key, value in endpoint.items()]
    return "\n".join(lines) + "\n"
