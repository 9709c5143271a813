"""A simple, honest passphrase strength estimate for the meter (the rule itself is the core's).

It rewards length and variety and penalises what guessers try first: repeats, runs, keyboard
rows, common words and dates. It is a guide for the user, not a guarantee; the minimum that is
enforced lives in app.services.vault.check_new_passphrase."""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMON = (
    "password", "passphrase", "letmein", "welcome", "qwerty", "admin", "caseward", "secret",
    "monkey", "dragon", "football", "iloveyou", "sunshine", "princess", "changeme", "default",
    "police", "summer", "winter", "spring", "autumn",
)
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
LABELS = ("Too short", "Weak", "Fair", "Good", "Strong")


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    label: str
    hint: str


def _runs(text: str) -> int:
    """Characters that continue an ascending/descending run or a keyboard row (abc, 321, qwe)."""
    lower = text.lower()
    count = 0
    for i in range(2, len(lower)):
        a, b, c = lower[i - 2], lower[i - 1], lower[i]
        step = ord(b) - ord(a) == ord(c) - ord(b) and abs(ord(c) - ord(b)) == 1
        if step or any(a + b + c in row or c + b + a in row for row in _ROWS):
            count += 1
    return count


def estimate(passphrase: str, minimum: int = 12) -> Strength:
    if not passphrase:
        return Strength(0, LABELS[0], f"Use at least {minimum} characters: several unrelated "
                        "words are easy to remember and hard to guess.")
    if len(passphrase) < minimum:
        return Strength(0, LABELS[0], f"{minimum - len(passphrase)} more characters needed.")
    classes = sum(
        bool(re.search(pattern, passphrase))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    points = min(len(passphrase), 40) / 4  # length matters most: 12 chars = 3, 24 chars = 6
    points += classes * 0.75
    lower = passphrase.lower()
    hints: list[str] = []
    common = [w for w in _COMMON if w in lower]
    if common:
        points -= 2.5 * len(common)
        hints.append("avoid common words such as “" + common[0] + "”")
    if re.search(r"(.)\1{2,}", passphrase):
        points -= 2
        hints.append("avoid repeated characters")
    if _runs(passphrase) >= 3:
        points -= 2
        hints.append("avoid sequences such as abc, 123 or qwerty")
    if re.search(r"(19|20)\d\d", passphrase):
        points -= 1
        hints.append("avoid years and dates")
    if len(set(lower)) < 8:
        points -= 2
        hints.append("use more different characters")
    if " " in passphrase.strip() or "-" in passphrase:
        points += 0.5  # several words
    if points < 5:
        score = 1
    elif points < 7.5:
        score = 2
    elif points < 9.5:
        score = 3
    else:
        score = 4
    if hints:
        hint = hints[0][0].upper() + hints[0][1:] + "."
    elif score < 4:
        hint = "Longer is stronger: add another unrelated word."
    else:
        hint = "A strong passphrase. Keep it to yourself."
    return Strength(score, LABELS[score], hint)
