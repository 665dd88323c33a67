"""Request-target canonicalization: a raw target in, decoded path segments or a rejection out."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_PATH_LENGTH",
    "PathRejection",
    "canonical_segments",
    "plain_segment",
    "raw_target",
]


def __dir__() -> list[str]:
    return __all__


MAX_PATH_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class PathRejection:
    """Why a request target was refused; falsy, so `if not result:` reads as "denied"."""

    code: str  # stable short identifier, e.g. "dot-segment"
    message: str  # names the problem and the offending segment, clipped

    def __bool__(self) -> bool:
        return False


def canonical_segments(target: object) -> tuple[str, ...] | PathRejection:
    """Canonicalize a request target into decoded path segments, or reject it (fail closed).

    DESIGN.md, "Request paths: canonicalize or deny": an allow must hold under any normalization
    the upstream may apply, so a target that two servers could read differently is refused, not
    repaired. Never raises, whatever `target` is.

        "/brands/my%20brand?x=1"  ->  ("brands", "my brand")
        "/"                       ->  ("",)
        "/brands/"                ->  ("brands", "")     the trailing slash is kept, not folded
        "/brands//x"              ->  PathRejection("empty-segment", ...)
        "/brands/%2e%2e/admin"    ->  PathRejection("encoded-dot-segment", ...)

    The query (from the first `?`) is ignored, except that a raw `#` or control character
    anywhere in the target is refused: neither is valid in an HTTP request target, and they are
    what fragment confusion, truncation (NUL) and request splitting (CR LF) are made of. The rest
    must start with `/`; it is split on `/` and each segment is percent-decoded exactly once.
    Only the last segment may be empty, so `/` and a trailing slash stay routes of their own
    (matched exactly, never folded), while `//` anywhere else is refused.

    The checks run in this order and the first that fails is reported, naming the leftmost
    offender of its kind, so each input has exactly one code:

    1. `not-a-string`; `too-long` (over MAX_PATH_LENGTH characters, before any other work);
       `control-character` (raw, anywhere); `fragment` (a raw `#`, anywhere).
    2. The form, for a target not starting with `/`: `asterisk-form` (`*`), `absolute-form`
       (`http://host/p`, any `scheme:...`), `authority-form` (`host:443`), else
       `not-absolute-path`.
    3. A raw character RFC 3986 does not allow in a path: `non-ascii`, `backslash`, `semicolon`,
       or `bad-character` (space `"` `<` `>` `` ` `` `{` `}` `|` `^` `[` `]`).
    4. `empty-segment` (`//`) or `dot-segment` (`.`, `..`).
    5. `bad-percent-encoding` (`%zz`, `%4`, a trailing `%`); then the escapes refused outright:
       `encoded-slash` (`%2F`), `encoded-backslash` (`%5C`), `double-encoding` (`%25`),
       `semicolon` (`%3B`), `control-character` (`%00`-`%1F`, `%7F`).
    6. On the decoded segments: `encoded-dot-segment` (`%2e`, `.%2E`); `encoded-unreserved`
       (`%61` for `a`: DESIGN.md, "What an allow must also survive"); `bad-utf8` (invalid,
       overlong, surrogate); `control-character` (C1, e.g. `%C2%85`); `nfkc` (NFKC would
       change it: fullwidth `%EF%BC%8E`, ligature `%EF%AC%81`).

    So an accepted segment never contains `/`, `\\`, `%`, `;` or a control character, never
    held an escaped unreserved character, is never `.` or `..`, and is NFKC-stable; ids are
    then compared exactly (case-sensitive).
    """
    # The fast path: an ASCII path of plain characters (the common request) is settled by a
    # handful of C-level string operations, about 0.3 us. It only ever accepts; whatever it
    # cannot vouch for goes to _thorough, which decides every input alone and agrees with it.
    raw = raw_target(target)
    if raw is not None:
        path, segments = raw
        if path.isascii() and "//" not in path and "/." not in path:
            encoded = path.encode()
            if encoded.translate(_FAST_TABLE) == encoded:
                return segments
    return _thorough(target)


def raw_target(target: object) -> tuple[str, tuple[str, ...]] | None:
    """The path of a target and its raw segments, split once, when the rest of the target
    needs no further look; None when only canonical_segments can tell.

    The query (from the first `?`) must be printable and hold no `#` (step 1 refuses those
    anywhere); the path must start with `/`. The segments are as sent: not decoded, not
    checked. A router may compare them with canonical literals and check only the segments it
    binds (`plain_segment`), since a raw segment equal to a canonical one is canonical.

        "/brands/acme?x=1"  ->  ("/brands/acme", ("brands", "acme"))
    """
    if type(target) is not str or len(target) > MAX_PATH_LENGTH:
        return None
    path = target
    query = target.find("?")
    if query != -1:
        rest = target[query + 1 :]
        if "#" in rest or not rest.isprintable():
            return None
        path = target[:query]
    if path[:1] != "/":
        return None
    return path, tuple(path[1:].split("/"))


# RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@". `;` is a sub-delim
# but is refused (path parameters: Tomcat and Spring cut the segment at it, others do not), and
# `%` starts an escape, so neither is plain.
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_PLAIN = _ALNUM + b"-._~" + b"!$&'()*+,=" + b":@"

# Every byte the fast path may pass maps to itself and every other byte to one that differs
# from it, so `raw.translate(_FAST_TABLE) == raw` holds exactly when all of `raw` is plain or "/".
_FAST_BYTES = _PLAIN + b"/"
_FAST_TABLE = bytes(b if b in _FAST_BYTES else (0 if b else 1) for b in range(256))

_PLAIN_TABLE = bytes(b if b in _PLAIN else (0 if b else 1) for b in range(256))

# The same for every byte a path may hold raw; deleting them leaves the offending ones, in order.
_PATH_BYTES = _FAST_BYTES + b"%"
_PATH_TABLE = bytes(b if b in _PATH_BYTES else (0 if b else 1) for b in range(256))

# Every byte but the C0 controls, DEL and the C1 controls (Unicode category Cc).
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not (b < 0x20 or 0x7F <= b <= 0x9F))

_NEVER_CONTROLS = "controls and NUL are never allowed"

# Escaped bytes refused wherever they appear: byte -> (code, why).
_REFUSED_ESCAPES = {
    0x2F: ("encoded-slash", "a path separator must not be encoded"),
    0x5C: ("encoded-backslash", "some servers read a backslash as '/'"),
    0x25: ("double-encoding", "nothing may be encoded twice"),
    0x3B: ("semicolon", "path parameters are not allowed"),
    **dict.fromkeys((*range(0x20), 0x7F), ("control-character", _NEVER_CONTROLS)),
}
# Decoded bytes that can only have come from a refused escape once step 3 has passed, each
# mapped to a byte that differs from it. "/" is not among them (a raw separator decodes to
# itself); an encoded one shows as an extra segment instead.
_UNREFUSED_BYTES = bytes(b for b in range(256) if b == 0x2F or b not in _REFUSED_ESCAPES)
_UNREFUSED_TABLE = bytes(b if b in _UNREFUSED_BYTES else (0 if b else 1) for b in range(256))

# RFC 3986 §2.3: an escape of an unreserved character (ALPHA DIGIT - . _ ~), in either case of
# hex digit. Fixed-length alternatives: the search is one linear pass, it never backtracks.
_ENCODED_UNRESERVED = re.compile(r"%(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|2[DdEe]|5[Ff]|7[Ee])")

# Bound once: codecs looks a codec up by name on every bytes.decode("unicode_escape").
_unicode_escape_decode = codecs.getdecoder("unicode_escape")

_CLIP = 40

# The name a class was created with, read by type's own descriptor so no metaclass code runs.
_type_name = type.__dict__["__name__"].__get__


def _clip(text: str) -> str:
    """repr() of at most _CLIP characters of `text`, so a huge input is never echoed."""
    if len(text) <= _CLIP:
        return repr(text)
    return repr(text[:_CLIP]) + "..."


def _first_control(text: str) -> int:
    """Offset of the first Cc character (C0, DEL, C1) in `text`, or -1."""
    # Characters above U+00FF become b"?", one byte per character, so offsets stay aligned.
    latin = text.encode("latin-1", "replace")
    controls = latin.translate(None, _NOT_CONTROL_BYTES)
    return latin.index(controls[:1]) if controls else -1


def _thorough(target: object) -> tuple[str, ...] | PathRejection:
    """Decide any target, in the order canonical_segments documents.

    Each step is a few C-level passes over the whole path, not a Python loop over its characters
    or segments (only naming the segment NFKC changes walks them), so even a hostile 8 KiB
    target costs at most a few hundred microseconds.
    """
    if type(target) is not str:
        if not issubclass(type(target), str):
            try:
                name = _clip(_type_name(type(target)))
            except Exception:  # a class's name is always a str; stay total all the same
                name = "another type"
            return PathRejection("not-a-string", f"request target must be a str, not {name}")
        target = str.__str__(target)  # the plain value; no override of the subclass runs
    length = len(target)
    if length > MAX_PATH_LENGTH:
        return PathRejection(
            "too-long",
            f"request target is {length} characters long; the limit is {MAX_PATH_LENGTH}",
        )
    if not target.isprintable():
        offset = _first_control(target)
        if offset >= 0:
            return PathRejection(
                "control-character",
                f"request target has the control character {target[offset]!r} at offset "
                f"{offset}; {_NEVER_CONTROLS}",
            )
    if "#" in target:
        return PathRejection(
            "fragment",
            f"request target has a raw '#' at offset {target.index('#')}; clients never send "
            "a fragment, and servers disagree on what follows one",
        )

    path = target.partition("?")[0]
    if not path.startswith("/"):
        return _form_rejection(path)
    segments = path[1:].split("/")

    # 3. Raw characters. Non-ASCII ones become b"?", which a path never holds raw (the query
    # starts at the first "?"), so the first offending byte is at the first offending character.
    raw = path.encode("ascii", "replace")
    if raw.translate(_PATH_TABLE) != raw:
        offset = raw.index(raw.translate(None, _PATH_BYTES)[:1])
        return _raw_character(path[offset], _where(path.count("/", 0, offset), segments))

    # 4. Structure: only the last segment may be empty, so any "//" is refused.
    empty = path.find("//")
    dot = _first_dot_segment(path)
    if empty >= 0 and (dot < 0 or empty < dot):
        number = path.count("/", 0, empty + 1)
        return PathRejection(
            "empty-segment",
            f"path has an empty segment (segment {number}, '//'); send the canonical path",
        )
    if dot >= 0:
        number = path.count("/", 0, dot + 1)
        return PathRejection(
            "dot-segment",
            f"path has a dot segment {segments[number - 1]!r} (segment {number}); "
            "send the canonical path",
        )
    if "%" not in path:
        return tuple(segments)
    return _decode(path, segments)


def _first_dot_segment(path: str) -> int:
    """Offset of the "/" that opens the first `.` or `..` segment of `path`, or -1."""
    path += "/"
    found = [offset for offset in (path.find("/./"), path.find("/../")) if offset >= 0]
    return min(found) if found else -1


def _where(number: int, segments: list[str]) -> str:
    return f"segment {number} {_clip(segments[number - 1])}"


def _raw_character(char: str, where: str) -> PathRejection:
    if not char.isascii():
        return PathRejection(
            "non-ascii",
            f"path has a raw non-ASCII character {char!r} in {where}; percent-encode it as UTF-8",
        )
    if char == "\\":
        return PathRejection(
            "backslash", f"path has a backslash in {where}; some servers read it as '/'"
        )
    if char == ";":
        return PathRejection(
            "semicolon", f"path has a ';' in {where}; path parameters are not allowed"
        )
    return PathRejection(
        "bad-character",
        f"path has a raw {char!r} in {where}; RFC 3986 requires it to be percent-encoded",
    )


def _form_rejection(path: str) -> PathRejection:
    """Name the form of a target that does not start with "/" (RFC 9112 §3.2)."""
    if not path:
        return PathRejection(
            "not-absolute-path", "request target has no path; a path must start with '/'"
        )
    if path == "*":
        return PathRejection(
            "asterisk-form",
            "request target is '*' (asterisk-form, for a server-wide OPTIONS); send a path",
        )
    shown = _clip(path)
    absolute = PathRejection(
        "absolute-form",
        f"request target {shown} is an absolute URI (absolute-form); send only its path, "
        "starting with '/'",
    )
    # RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
    scheme, colon, rest = path.partition(":")
    is_uri = bool(colon) and scheme[:1].isalpha() and _is_scheme(scheme)
    if is_uri and rest.startswith("//"):
        return absolute
    # `host:443` is also a scheme followed by ":"; a port of digits makes it authority-form.
    host, colon, port = path.rpartition(":")
    if colon and host and port.isascii() and port.isdigit() and "/" not in host:
        return PathRejection(
            "authority-form",
            f"request target {shown} is host:port (authority-form, for CONNECT); send a path "
            "starting with '/'",
        )
    if is_uri:
        return absolute
    return PathRejection("not-absolute-path", f"request target {shown} does not start with '/'")


_SCHEME_BYTES = _ALNUM + b"+-."


def _is_scheme(text: str) -> bool:
    return text.isascii() and not text.encode().translate(None, _SCHEME_BYTES)


def _decode(path: str, segments: list[str]) -> tuple[str, ...] | PathRejection:
    """Steps 5 and 6 for a path with escapes: percent-decode it once and check the result.

    The whole path is decoded at once. That is the same as decoding each segment after the
    split, since an escape that decodes to "/" is refused.
    """
    # 5. Escapes. Step 3 left no raw backslash, so with each "%" spelled "\x" the path is a
    # valid unicode_escape text exactly when every "%" starts a two-hex-digit escape; the codec
    # then yields each escaped byte as the code point of the same value, which latin-1 returns.
    escaped = path.replace("%", "\\x")
    try:
        decoded = _unicode_escape_decode(escaped.encode("ascii"))[0].encode("latin-1")
    except UnicodeDecodeError as error:
        # Each "\x" is one character longer than the "%" it replaced.
        offset = error.start - escaped.count("\\", 0, error.start)
        return PathRejection(
            "bad-percent-encoding",
            f"{_where(path.count('/', 0, offset), segments)} has a malformed escape "
            f"{path[offset : offset + 3]!r}; '%' must be followed by two hex digits",
        )
    parts = decoded.split(b"/")  # parts[0] is the b"" before the leading "/"
    if len(parts) != len(segments) + 1 or decoded.translate(_UNREFUSED_TABLE) != decoded:
        refused = set(decoded.translate(None, _UNREFUSED_BYTES))
        if len(parts) != len(segments) + 1:
            refused.add(0x2F)
        # Every "%" starts an escape, so each match below is a whole escape. Refused bytes are
        # ASCII: the first hex digit is never a letter, and two spellings cover every case.
        offset, byte = min(
            (found, byte)
            for byte in refused
            for spelling in {f"%{byte:02x}", f"%{byte:02X}"}
            if (found := path.find(spelling)) >= 0
        )
        code, why = _REFUSED_ESCAPES[byte]
        return PathRejection(
            code,
            f"{_where(path.count('/', 0, offset), segments)} encodes {chr(byte)!r} as "
            f"{path[offset : offset + 3]!r}; {why}",
        )

    # 6. The decoded segments. Raw dot segments were refused in step 4, so these are encoded.
    dot = _first_dot_segment(decoded.decode("latin-1"))
    if dot >= 0:
        number = decoded.count(b"/", 0, dot + 1)
        return PathRejection(
            "encoded-dot-segment",
            f"{_where(number, segments)} decodes to the dot segment "
            f"{parts[number].decode()!r}; send the canonical path",
        )
    unreserved = _ENCODED_UNRESERVED.search(path)
    if unreserved is not None:
        offset = unreserved.start()
        escape = unreserved.group()
        return PathRejection(
            "encoded-unreserved",
            f"{_where(path.count('/', 0, offset), segments)} encodes the unreserved character "
            f"{chr(int(escape[1:], 16))!r} as {escape!r}; routers that match the raw path and "
            "routers that decode it first read it differently: send it unencoded",
        )
    try:
        text = decoded.decode("utf-8")  # strict (RFC 3629): no overlong forms, no surrogates
    except UnicodeDecodeError as error:
        # 0x2F is never part of a multi-byte sequence, so the error lies within one segment.
        return PathRejection(
            "bad-utf8",
            f"{_where(decoded.count(b'/', 0, error.start), segments)} does not decode to valid "
            "UTF-8",
        )
    texts = text[1:].split("/")
    if not text.isascii():  # ASCII is NFKC-stable, and its controls were refused as escapes
        offset = _first_control(text)
        if offset >= 0:
            return PathRejection(
                "control-character",
                f"{_where(text.count('/', 0, offset), segments)} encodes the control character "
                f"{text[offset]!r}; {_NEVER_CONTROLS}",
            )
        # "/" is a stable code point (it neither decomposes nor composes), so NFKC of the whole
        # path is the NFKC of each segment joined by "/"; the per-segment search runs on refusal.
        if not unicodedata.is_normalized("NFKC", text):
            for number, segment in enumerate(texts, 1):
                normalized = unicodedata.normalize("NFKC", segment)
                if normalized != segment:
                    return PathRejection(
                        "nfkc",
                        f"{_where(number, segments)} decodes to {_clip(segment)}, which Unicode "
                        f"NFKC changes to {_clip(normalized)}; send the normalized form",
                    )
            return PathRejection(
                "nfkc", "Unicode NFKC changes the decoded path; send the normalized form"
            )
    return tuple(texts)


def plain_segment(segment: str) -> bool:
    """Whether one raw segment is canonical as it stands: canonical_segments accepts it and
    decodes it to itself (non-empty, not `.` or `..`, only plain pchar: no `%`, no `;`).

    Lets a router check only the segments a route binds, instead of the whole path first.
    """
    if segment.isalnum() and segment.isascii():
        return True
    if not segment or not segment.isascii() or segment == "." or segment == "..":
        return False
    raw = segment.encode()
    return raw.translate(_PLAIN_TABLE) == raw
