"""Pure validation rules for sign-up forms (no database access)."""

import re

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.]{2,29}$")
RESERVED_USERNAMES = frozenset({"admin", "root", "support", "staff"})
POSTCODE_PATTERNS = {
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
}


def username_problems(username):
    problems = []
    if username.lower() != username:
        problems.append("must be lowercase")
    if not USERNAME_RE.match(username.lower()):
        problems.append("3-30 characters: a letter, then letters, digits, '_' or '.'")
    if username.lower() in RESERVED_USERNAMES:
        problems.append("is reserved")
    return problems


def postcode_is_valid(country, postcode):
    pattern = POSTCODE_PATTERNS.get(country.upper())
    if pattern is None:
        return bool(postcode.strip())
    return bool(pattern.match(postcode.strip().upper()))


def password_strength(password):
    """A 0-4 score: one point each for length >= 12, a digit, mixed case and a symbol."""
    score = 0
    score += len(password) >= 12
    score += any(c.isdigit() for c in password)
    score += any(c.islower() for c in password) and any(c.isupper() for c in password)
    score += any(not c.isalnum() for c in password)
    return score
