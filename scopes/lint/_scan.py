"""Position-keeping scanners for JSON, TOML and YAML: every value with where its text is.

Each scanner runs only on text its format's real parser has accepted (json, tomllib, PyYAML),
so it can be simple; it reports values, never syntax errors. A value's `path` addresses it in
the decoded document (keys and list indexes; for YAML the document index comes first).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from json.decoder import scanstring

from scopes.lint.noqa import strip_directive

__all__ = ["Found", "scan_json", "scan_lines", "scan_toml", "scan_yaml"]

Path = tuple[str | int, ...]
Wanted = Callable[[str], bool] | None  # which keys to report; None: every value, containers too


def __dir__() -> list[str]:
    return __all__


@dataclass(frozen=True, slots=True, eq=False)
class Found:
    """A value under a key, and the characters of the file that spell it.

    `start`/`end` delimit the value's text (inside the quotes for a quoted string). When
    `exact`, `file[start:end] == value`: character i of the value is at `start + i`, and a
    rewrite can replace `file[start:end]`. An escaped string carries `offsets` (one per
    character, plus the end) instead; other strings (folded YAML, block scalars) map every
    offset to `start`.
    """

    path: Path
    key: str | None  # the mapping key the value (or the list holding it) is under
    kind: str  # "str", "other" (number, bool, date, null), "list", "map"
    value: object
    start: int
    end: int
    exact: bool = False
    in_list: bool = False
    offsets: tuple[int, ...] | None = None

    def at(self, index: int) -> int:
        """The file offset of character `index` of the value; past its end, past the quote."""
        if self.exact:
            return self.start + index
        if self.offsets is not None:
            last = len(self.offsets) - 1
            return self.offsets[min(index, last)] + max(0, index - last)
        return self.start


# -- JSON ----------------------------------------------------------------------------------------

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")


class _Json:
    def __init__(self, text: str, wanted: Wanted) -> None:
        self.text = text
        self.wanted = wanted
        self.found: list[Found] = []

    def space(self, position: int) -> int:
        return _JSON_SPACE.match(self.text, position).end()

    def want(self, key: str | None) -> bool:
        return self.wanted is None or (key is not None and self.wanted(key))

    def value(self, position: int, path: Path, key: str | None, in_list: bool) -> int:
        text = self.text
        position = self.space(position)
        ch = text[position]
        if ch == '"':
            value, end = scanstring(text, position + 1, True)
            if self.want(key):
                self.found.append(
                    _string(text, path, key, value, position + 1, end - 1, in_list, _json_escape)
                )
            return end
        if ch == "{":
            if self.wanted is None:
                self.found.append(
                    Found(path, key, "map", None, position, position, False, in_list)
                )
            position = self.space(position + 1)
            if text[position] == "}":
                return position + 1
            while True:
                name, position = scanstring(text, self.space(position) + 1, True)
                position = self.space(position) + 1  # the ':'
                position = self.space(self.value(position, path + (name,), name, False))
                if text[position] == "}":
                    return position + 1
                position += 1  # the ','
        if ch == "[":
            if self.wanted is None:
                self.found.append(
                    Found(path, key, "list", None, position, position, False, in_list)
                )
            position = self.space(position + 1)
            if text[position] == "]":
                return position + 1
            index = 0
            while True:
                position = self.space(self.value(position, path + (index,), key, True))
                index += 1
                if text[position] == "]":
                    return position + 1
                position += 1
        match = _JSON_SCALAR.match(text, position)
        if self.want(key):
            value = json.loads(match.group())
            end = match.end()
            self.found.append(Found(path, key, "other", value, position, end, False, in_list))
        return match.end()


def scan_json(text: str, wanted: Wanted) -> list[Found]:
    """Values of a JSON document json.loads accepted."""
    scanner = _Json(text, wanted)
    scanner.value(0, (), None, False)
    return scanner.found


def _json_escape(raw: str, index: int) -> int:
    """Length of the escape at raw[index] (a surrogate pair spelled as two escapes is one)."""
    if raw[index + 1] != "u":
        return 2
    code = int(raw[index + 2 : index + 6], 16)
    if 0xD800 <= code < 0xDC00 and raw[index + 6 : index + 8] == "\\u":
        low = int(raw[index + 8 : index + 12], 16)
        if 0xDC00 <= low < 0xE000:
            return 12
    return 6


def _string(
    text: str,
    path: Path,
    key: str | None,
    value: str,
    start: int,
    end: int,
    in_list: bool,
    escape: Callable[[str, int], int] | None,
) -> Found:
    raw = text[start:end]
    if raw == value:
        return Found(path, key, "str", value, start, end, True, in_list)
    offsets = None
    if escape is not None and "\n" not in raw:
        mapped = []
        index = 0
        while index < len(raw):
            mapped.append(start + index)
            index += escape(raw, index) if raw[index] == "\\" else 1
        mapped.append(end)
        if len(mapped) == len(value) + 1:
            offsets = tuple(mapped)
    return Found(path, key, "str", value, start, end, False, in_list, offsets)


# -- TOML ----------------------------------------------------------------------------------------

_TOML_SPACE = re.compile(r"[ \t]*")
_TOML_BLANK = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")
_TOML_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_SCALAR = re.compile(r"[^\s,\]}#]+")
_TOML_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:")  # RFC 3339 with a space


class _Toml:
    """Walks a TOML document as tomllib reads it: tables, arrays of tables, dotted keys."""

    def __init__(self, text: str, wanted: Wanted) -> None:
        self.text = text
        self.wanted = wanted
        self.found: list[Found] = []
        self.keys: dict[Path, int] = {}  # where each key (or table name) is spelled
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> entries so far

    def want(self, key: str | None) -> bool:
        return self.wanted is None or (key is not None and self.wanted(key))

    def run(self) -> None:
        text = self.text
        table: Path = ()
        position = 0
        while True:
            position = _TOML_BLANK.match(text, position).end()
            if position >= len(text):
                return
            if text.startswith("[[", position):
                parts, position = self.key(position + 2)
                base = self.resolve(parts[:-1])
                name, offset = parts[-1]
                array = base + (name,)
                count = self.arrays.get(array, 0)
                self.arrays[array] = count + 1
                table = array + (count,)
                self.keys[table] = offset
                position = _TOML_SPACE.match(text, position).end() + 2  # ']]'
            elif text[position] == "[":
                parts, position = self.key(position + 1)
                table = self.resolve(parts)
                self.keys[table] = parts[-1][1]
                position = _TOML_SPACE.match(text, position).end() + 1  # ']'
            else:
                position = self.pair(position, table)

    def resolve(self, parts: list[tuple[str, int]]) -> Path:
        path: Path = ()
        for name, _ in parts:
            path += (name,)
            if path in self.arrays:
                path += (self.arrays[path] - 1,)
        return path

    def key(self, position: int) -> tuple[list[tuple[str, int]], int]:
        """A dotted key: each part's name and the offset of its first character."""
        text = self.text
        parts = []
        while True:
            position = _TOML_SPACE.match(text, position).end()
            ch = text[position]
            if ch == '"':
                end = self.basic_end(position + 1)
                raw = text[position + 1 : end]
                parts.append((_decode_basic(raw) if "\\" in raw else raw, position + 1))
                position = end + 1
            elif ch == "'":
                end = text.index("'", position + 1)
                parts.append((text[position + 1 : end], position + 1))
                position = end + 1
            else:
                match = _TOML_BARE_KEY.match(text, position)
                parts.append((match.group(), position))
                position = match.end()
            position = _TOML_SPACE.match(text, position).end()
            if position < len(text) and text[position] == ".":
                position += 1
                continue
            return parts, position

    def pair(self, position: int, table: Path) -> int:
        parts, position = self.key(position)
        path = table + tuple(name for name, _ in parts)
        self.keys[path] = parts[-1][1]
        position = _TOML_SPACE.match(self.text, position).end() + 1  # '='
        return self.value(position, path, parts[-1][0], False)

    def basic_end(self, position: int) -> int:
        """The offset of the quote closing a one-line basic string whose text starts here."""
        text = self.text
        while text[position] != '"':
            position += 2 if text[position] == "\\" else 1
        return position

    def value(self, position: int, path: Path, key: str, in_list: bool) -> int:
        text = self.text
        position = _TOML_SPACE.match(text, position).end()
        ch = text[position]
        if ch in "\"'":
            if text.startswith(ch * 3, position):
                start = position + 3
                end = start
                while True:
                    if ch == '"' and text[end] == "\\":
                        end += 2
                        continue
                    if text.startswith(ch * 3, end):
                        run = 3
                        while run < 5 and end + run < len(text) and text[end + run] == ch:
                            run += 1
                        end += run - 3  # up to two quotes before the closing three are text
                        break
                    end += 1
                after = end + 3
                if self.want(key):
                    value = tomllib.loads(f"v = {text[position:after]}")["v"]
                    self.found.append(_string(text, path, key, value, start, end, in_list, None))
                return after
            start = position + 1
            end = self.basic_end(start) if ch == '"' else text.index("'", start)
            if self.want(key):
                raw = text[start:end]
                value = _decode_basic(raw) if ch == '"' and "\\" in raw else raw
                escape = _toml_escape if ch == '"' else None
                self.found.append(_string(text, path, key, value, start, end, in_list, escape))
            return end + 1
        if ch == "[":
            if self.wanted is None:
                self.found.append(
                    Found(path, key, "list", None, position, position, False, in_list)
                )
            position += 1
            index = 0
            while True:
                position = _TOML_BLANK.match(text, position).end()
                if text[position] == "]":
                    return position + 1
                position = self.value(position, path + (index,), key, True)
                index += 1
                position = _TOML_BLANK.match(text, position).end()
                if text[position] == ",":
                    position += 1
        if ch == "{":
            if self.wanted is None:
                self.found.append(
                    Found(path, key, "map", None, position, position, False, in_list)
                )
            position = _TOML_SPACE.match(text, position + 1).end()
            while text[position] != "}":
                parts, position = self.key(position)
                inner = path + tuple(name for name, _ in parts)
                self.keys[inner] = parts[-1][1]
                position = _TOML_SPACE.match(text, position).end() + 1  # '='
                position = self.value(position, inner, parts[-1][0], False)
                position = _TOML_SPACE.match(text, position).end()
                if text[position] == ",":
                    position = _TOML_SPACE.match(text, position + 1).end()
            return position + 1
        end = _TOML_SCALAR.match(text, position).end()
        if _TOML_DATE_TIME.match(text, position):
            end = _TOML_SCALAR.match(text, end + 1).end()
        if self.want(key):
            value = tomllib.loads(f"v = {text[position:end]}")["v"]
            self.found.append(Found(path, key, "other", value, position, end, in_list=in_list))
        return end


def _decode_basic(raw: str) -> str:
    return tomllib.loads(f'v = "{raw}"')["v"]


def _toml_escape(raw: str, index: int) -> int:
    return {"u": 6, "U": 10}.get(raw[index + 1], 2)


def scan_toml(text: str, wanted: Wanted) -> tuple[list[Found], dict[Path, int]]:
    """Values of a TOML document tomllib accepted, and where each key is spelled."""
    scanner = _Toml(text, wanted)
    scanner.run()
    return scanner.found, scanner.keys


# -- YAML ----------------------------------------------------------------------------------------

_YAML_STR = "tag:yaml.org,2002:str"


def scan_yaml(text: str, wanted: Wanted, yaml) -> list[Found]:
    """Values of every document of a YAML stream, from PyYAML's nodes and their marks.

    Composing (not constructing) accepts any tag, so CloudFormation's `!Ref` and the like read
    fine. A node reached again through an alias is reported once, where it is written.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    constructor = yaml.SafeLoader("")
    found: list[Found] = []
    seen: set[int] = set()

    def want(key: str | None) -> bool:
        return wanted is None or (key is not None and wanted(key))

    def walk(node, path: Path, key: str | None, in_list: bool) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, yaml.ScalarNode):
            if not want(key):
                return
            if node.tag != _YAML_STR:
                try:
                    value = constructor.construct_object(node, deep=True)
                except yaml.YAMLError:
                    value = node.value
                found.append(Found(path, key, "other", value, start, end, in_list=in_list))
                return
            style = node.style or None
            if style in ("'", '"'):
                inner = (start + 1, max(start + 1, end - 1))
                found.append(_string(text, path, key, node.value, *inner, in_list, None))
            elif style is None:
                found.append(_string(text, path, key, node.value, start, end, in_list, None))
            else:  # a block scalar: its text starts on the next line
                found.append(Found(path, key, "str", node.value, start, end, in_list=in_list))
        elif isinstance(node, yaml.SequenceNode):
            if wanted is None:
                found.append(Found(path, key, "list", node.tag, start, start, in_list=in_list))
            for index, child in enumerate(node.value):
                walk(child, path + (index,), key, True)
        else:
            if wanted is None:
                found.append(Found(path, key, "map", node.tag, start, start, in_list=in_list))
            for name, child in node.value:
                label = name.value if isinstance(name, yaml.ScalarNode) else None
                walk(child, path + (label,), label, False)

    for index, document in enumerate(yaml.compose_all(text, Loader=loader)):
        if document is not None:
            walk(document, (index,), None, False)
    return found


# -- `.scopes` files -----------------------------------------------------------------------------


def scan_lines(text: str) -> list[Found]:
    """One scope string per line; blank lines and lines starting with '#' are skipped.

    A trailing `# scopes: noqa...` directive is a comment, not part of the string.
    """
    found = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        content = strip_directive(line[:-1] if line.endswith("\r") else line)
        if content.strip() and not content.startswith("#"):
            end = offset + len(content)
            found.append(Found((number,), None, "str", content, offset, end, True))
        offset += len(line) + 1
    return found
