"""Files the linter reads: JSON, YAML, TOML, `.scopes`; their values with positions, and rewrites.

A file's format comes from its name. A rewrite (`--fix`) replaces a string's characters in
place, keeping everything else of the file as it was, and is kept only if the file then parses
to the same document with exactly that string changed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scopes.lint._scan import Found, scan_json, scan_lines, scan_toml, scan_yaml

__all__ = [
    "FORMATS",
    "Document",
    "Found",
    "SourceError",
    "format_of",
    "read_document",
    "read_text",
    "rewrite",
]

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".scopes": "scopes"}
YAML_HINT = "reading YAML needs PyYAML: pip install 'scopes-policy[yaml]'"


def __dir__() -> list[str]:
    return __all__


class SourceError(Exception):
    """A file that cannot be read or parsed: a usage error (exit 2), never a traceback."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(slots=True)
class Document:
    """A parsed file: its text, its decoded data, and the values the linter looks at."""

    format: str
    text: str
    data: object
    found: list[Found]
    keys: dict[tuple, int] = field(default_factory=dict)  # TOML: where each key is spelled


def format_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(f"cannot tell the format of this file; name it {known}")
    return FORMATS[suffix]


def read_text(path: str) -> str:
    """The file as text: UTF-8, a byte order mark dropped (it is no character of the content)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory; name the files to lint") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"not UTF-8 ({error.reason} at byte {error.start})") from None


def _yaml():
    try:
        import yaml
    except ImportError:  # an optional extra
        raise SourceError(YAML_HINT) from None
    return yaml


def read_document(fmt: str, text: str, wanted: Callable[[str], bool] | None) -> Document:
    """Parse with the format's own parser (its errors become SourceError), then scan positions."""
    if fmt == "scopes":
        found = scan_lines(text)
        return Document(fmt, text, [f.value for f in found], found)
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SourceError(
                f"invalid JSON: {error.msg}", line=error.lineno, column=error.colno
            ) from None
        except RecursionError:
            raise SourceError("invalid JSON: nested too deeply") from None
        try:
            return Document(fmt, text, data, scan_json(text, wanted))
        except RecursionError:
            raise SourceError("JSON nested too deeply to read") from None
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            line, column = _toml_position(str(error))
            raise SourceError(f"invalid TOML: {error}", line=line, column=column) from None
        found, keys = scan_toml(text, wanted)
        return Document(fmt, text, data, found, keys)
    yaml = _yaml()
    try:
        found = scan_yaml(text, wanted, yaml)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "cannot parse"
        raise SourceError(
            f"invalid YAML: {problem}",
            line=None if mark is None else mark.line + 1,
            column=None if mark is None else mark.column + 1,
        ) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise SourceError(f"invalid YAML: {error}") from None
    return Document(fmt, text, None, found)


def _toml_position(message: str) -> tuple[int | None, int | None]:
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    return (int(found.group(1)), int(found.group(2))) if found else (None, None)


def rewrite(document: Document, replacements: dict[Found, str]) -> str | None:
    """The file with each found string's characters replaced, or None if that would change more.

    Only `exact` strings are replaced. The new text must parse, and to exactly the old document
    with those strings changed (a YAML plain scalar that now starts with '[' would not).
    """
    edits = [(f, new) for f, new in replacements.items() if f.exact and new != f.value]
    if not edits:
        return None
    text = document.text
    pieces = []
    position = 0
    for found, new in sorted(edits, key=lambda edit: edit[0].start):
        pieces += [text[position : found.start], new]
        position = found.end
    pieces.append(text[position:])
    new_text = "".join(pieces)
    try:
        same = _same(document, new_text, {f.path: new for f, new in edits})
    except Exception:  # any failure to re-read means: do not rewrite
        same = False
    return new_text if same else None


def _same(document: Document, new_text: str, changed: dict[tuple, str]) -> bool:
    fmt = document.format
    if fmt == "json":
        return json.loads(new_text) == _replaced(document.data, changed)
    if fmt == "toml":
        return tomllib.loads(new_text) == _replaced(document.data, changed)
    if fmt == "scopes":
        return [f.value for f in scan_lines(new_text)] == [
            changed.get(f.path, f.value) for f in scan_lines(document.text)
        ]
    yaml = _yaml()
    before = [_shape(f, changed) for f in scan_yaml(document.text, None, yaml)]
    after = [_shape(f, {}) for f in scan_yaml(new_text, None, yaml)]
    return before == after


def _shape(found: Found, changed: dict[tuple, str]) -> tuple:
    return (found.path, found.kind, changed.get(found.path, found.value))


def _replaced(data: object, changed: dict[tuple, str]) -> object:
    """A deep copy of decoded data with the values at `changed`'s paths replaced."""
    copy = _deep_copy(data)
    for path, value in changed.items():
        node = copy
        for step in path[:-1]:
            node = node[step]
        if not isinstance(node[path[-1]], str):
            raise KeyError(path)
        node[path[-1]] = value
    return copy


def _deep_copy(data: object) -> object:
    if isinstance(data, dict):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data
