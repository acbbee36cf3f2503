"""Password hashing with Argon2id, a memory-hard KDF."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 128
LOGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$")

_hasher = PasswordHasher()
# Verified when an account does not exist, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("chorus-timing-equaliser")


def configure(*, memory_kib: int, time_cost: int) -> None:
    """Set the Argon2id cost once at start-up."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)
    _DUMMY_HASH = _hasher.hash("chorus-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash, burns the same time and says False."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def normalise_login(login_name: str) -> str:
    return login_name.strip().casefold()


def check_login_name(login_name: str) -> str:
    """Return the trimmed login name or raise ``ValidationFailed`` saying what is wrong."""
    name = login_name.strip()
    if not LOGIN_NAME.match(name):
        raise ValidationFailed(
            "A login name is 3 to 40 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    return name


def check_password(password: str, *, login_name: str) -> None:
    """Raise ``ValidationFailed`` unless the password is long enough and not the login name."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"A password can have at most {MAX_LENGTH} characters.")
    if normalise_login(password) == normalise_login(login_name):
        raise ValidationFailed("A password must not be the same as the login name.")
