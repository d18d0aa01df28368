"""Passwords and bearer secrets.

Passwords are argon2id (RFC 9106's second recommended profile, argon2-cffi's default):
slow on purpose, since people choose guessable ones. Session ids and API tokens are 256
random bits, so a single sha256 is enough to keep them useless if the table leaks, and it
keeps every authenticated request cheap; argon2 there would cost ~0.2 s of CPU per call.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from camsweep.errors import AccountError

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOKEN_PREFIX = "csw_"

DEFAULT_HASHER = PasswordHasher()
# Each argon2id computation holds 64 MiB for ~0.2 s: a burst of sign-ins must queue rather
# than take a gigabyte (or be a cheap way to exhaust the server's memory).
_HASHING = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
# A valid hash of nothing anyone knows: unknown users cost the same time as known ones.
_DUMMY: dict[int, str] = {}


def check_password_policy(password: str, username: str) -> None:
    """Length over composition rules (NIST SP 800-63B §3.1.1.2); the name is never enough."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")
    if password.strip().lower() == username.strip().lower():
        raise AccountError("the password must not be the user name")


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    with _HASHING:
        return hasher.hash(password)


def verify_password(stored: str | None, password: str,
                    hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Constant work whether or not the account exists (`stored` None)."""
    if stored is None:
        key = id(hasher)
        if key not in _DUMMY:
            _DUMMY[key] = hash_password(secrets.token_hex(16), hasher)
        with _HASHING, contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_DUMMY[key], password)
        return False
    with _HASHING:
        try:
            return hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(stored: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def new_token() -> str:
    """A bearer secret; the prefix lets secret scanners recognise a leaked one."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
