"""Password hashing and the rules a new password must meet."""

from __future__ import annotations

import bcrypt

MIN_PASSWORD_LENGTH = 10
BCRYPT_ROUNDS = 12
# The commonest passwords of at least ten characters (from public breach top-lists); refused outright.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "1234567891",
        "1q2w3e4r5t",
        "qwertyuiop",
        "password123",
        "password12",
        "password1!",
        "iloveyou12",
        "qwerty1234",
        "qwerty12345",
        "1qaz2wsx3edc",
        "zaq12wsxcde",
        "abcdefghij",
        "passw0rd123",
        "letmein123",
        "welcome123",
        "administrator",
        "superman123",
        "1111111111",
        "0000000000",
        "9876543210",
        "aaaaaaaaaa",
        "football123",
        "baseball123",
        "monkey12345",
        "dragon12345",
        "sunshine123",
        "princess123",
        "changeme123",
        "huddle-huddle",
        "password1234",
        "qwertyuiop123",
        "asdfghjkl1",
    }
)


def password_problem(password: str) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if password.lower() in COMMON_PASSWORDS:
        return "that password is one of the most common ones; choose another"
    return None


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False
