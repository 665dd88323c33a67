"""Client ids, client secrets, and the scrypt hashes a store keeps in place of the secrets.

A secret is shown once, when it is made; from then on only `hash_secret(secret)` is stored. A hash
describes itself, so its cost can be raised later without breaking the hashes already stored:

    scrypt$n=16384,r=8,p=1$<salt, base64>$<hash, base64>

(base64 is the standard alphabet without `=` padding, as in PHC strings.)

Cost: n=2**14, r=8, p=1 is the "interactive" setting of the scrypt paper (16 MiB of memory per
hash); it takes about 28 ms on the 2-vCPU reference machine. Every `/oauth/token` request pays it
once, so it bounds token requests to roughly 35 per second per core. Our secrets are 256 random
bits, out of reach of guessing whatever the cost, so the hash only has to make a leaked database
useless to read, not to slow a dictionary attack on weak passwords.

Nothing here logs a secret or puts one in an exception message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import string

__all__ = [
    "DUMMY_HASH",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "hash_secret",
    "needs_rehash",
    "new_client_id",
    "new_secret",
    "verify_secret",
    "verify_unknown",
]


def __dir__() -> list[str]:
    return __all__


SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SECRET_BYTES = 32
_ID_PREFIX = "cl_"
_ID_LENGTH = 22  # 62**22 > 2**130
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

# Upper bounds on the parameters read back from a stored hash: a corrupt or planted row must not
# make one verification take gigabytes of memory or minutes of CPU.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16

# A hash of a random secret that was thrown away, with the current parameters (a test keeps them in
# step). Verifying against it costs what verifying a wrong secret for a real client costs, so an
# unknown client id and a wrong secret cannot be told apart by the time the answer takes.
DUMMY_HASH = (
    "scrypt$n=16384,r=8,p=1$Xxh3FSY0fPY7KpNOZtufiA$j7XQx5DayurFw0w+Mv3HjJ8hOTWgAxvR0BdyTt1uXB8"
)


def new_client_id() -> str:
    """A new random client id: `cl_` and 22 base62 characters (130 random bits).

    Base62 needs no escaping in a URL, a form body or HTTP Basic (RFC 6749 §2.3.1).
    """
    return _ID_PREFIX + "".join(_random.choice(_BASE62) for _ in range(_ID_LENGTH))


def new_secret() -> str:
    """A new client secret: 32 random bytes, base64url without padding (43 characters)."""
    return _random.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The self-describing scrypt hash of `secret`, with a new random salt (see the module doc)."""
    password = _password(secret)
    if not password:
        raise ValueError("a client secret must not be empty")
    if b"\x00" in password:
        raise ValueError("a client secret must not contain NUL")
    salt = _random.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _HASH_BYTES)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    """Whether `secret` is the one `encoded` was made from, compared in constant time.

    A malformed `encoded` is a mismatch (after the same work as any check), never an exception
    that could carry the secret into a log.
    """
    password = _password(secret)
    parsed = _parse(encoded)
    if parsed is None:
        _check(password, *_DUMMY)
        return False
    # scrypt's PBKDF2-HMAC pads a short password with NULs, so "s" and "s\0" would derive the
    # same key; no secret holds a NUL (hash_secret refuses one), so none can match.
    matches = _check(password, *parsed)
    return matches and b"\x00" not in password


def verify_unknown(secret: str) -> bool:
    """Spend the time of a real check on a client that does not exist; always False.

    Call it when the client id is unknown, so that the answer takes as long as a wrong secret.
    """
    _check(_password(secret), *_DUMMY)
    return False


def needs_rehash(encoded: str) -> bool:
    """Whether `encoded` was made with other parameters than `hash_secret` uses now."""
    parsed = _parse(encoded)
    return parsed is None or parsed[:3] != (SCRYPT_N, SCRYPT_R, SCRYPT_P)


def _password(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        # surrogatepass: any str encodes, so no UnicodeEncodeError can quote the secret.
        return secret.encode("utf-8", "surrogatepass")
    raise TypeError(f"a client secret must be str or bytes, not {type(secret).__name__}")


def _check(password: bytes, n: int, r: int, p: int, salt: bytes, expected: bytes) -> bool:
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # OpenSSL refuses to use more than maxmem (32 MiB by default); scrypt needs 128 * r * n bytes
    # for its main array plus 128 * r * p for the blocks, so ask for that and some slack.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=maxmem)


def _parse(encoded: object) -> tuple[int, int, int, bytes, bytes] | None:
    if not isinstance(encoded, str):
        return None
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != "scrypt":
        return None
    params: dict[str, int] = {}
    for item in parts[1].split(","):
        key, _, value = item.partition("=")
        if (
            key not in ("n", "r", "p")
            or key in params
            or not value.isascii()
            or not value.isdigit()
        ):
            return None
        params[key] = int(value)
    if len(params) != 3:
        return None
    n, r, p = params["n"], params["r"], params["p"]
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    salt, digest = _unb64(parts[2]), _unb64(parts[3])
    if not salt or not digest or len(digest) < 16:
        return None
    return n, r, p, salt, digest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes | None:
    if not text.isascii() or "=" in text:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _dummy() -> tuple[int, int, int, bytes, bytes]:
    parsed = _parse(DUMMY_HASH)
    if parsed is None:  # a constant; tests/test_store_secrets.py pins its parameters
        raise RuntimeError("DUMMY_HASH is not a hash this module reads")
    return parsed


_DUMMY = _dummy()
