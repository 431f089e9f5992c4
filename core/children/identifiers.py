"""National identifiers of a child or young person, validated with their check characters.

Each ``normalise_*`` function returns the canonical form, or raises ``ValueError`` with a
message a caseworker can act on. None of them log or echo the value: identifiers are
personal data.
"""

from __future__ import annotations

import re

# DfE "Unique pupil numbers (UPN)" guidance: the check letter alphabet omits I, O and S.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$")


def normalise_upn(raw: str) -> str:
    """A 13-character Unique Pupil Number with a correct check letter.

    Character 1 is the check letter: the sum of characters 2-13, each multiplied by its
    position (2..13), modulo 23, indexes ``_UPN_LETTERS``. A temporary UPN ends in a letter,
    which counts as its index in the same alphabet.
    """
    upn = raw.strip().upper().replace(" ", "")
    if len(upn) != 13:
        raise ValueError("Enter a UPN of 13 characters, like A123456789012")
    if not _UPN.match(upn):
        raise ValueError("Enter a UPN that starts with a letter followed by 11 numbers and a number or letter")
    total = 0
    for position, char in enumerate(upn[1:], start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += value * position
    if _UPN_LETTERS[total % 23] != upn[0]:
        raise ValueError("Enter a valid UPN: the check letter does not match")
    return upn


def normalise_uln(raw: str) -> str:
    """A 10-digit Unique Learner Number: first digit non-zero, and the digits weighted
    10, 9, ..., 1 sum to a remainder of 10 modulo 11 (Learning Records Service checksum)."""
    uln = raw.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{10}", uln):
        raise ValueError("Enter a ULN of 10 digits")
    if uln[0] == "0":
        raise ValueError("Enter a valid ULN: it cannot start with 0")
    total = sum(int(d) * w for d, w in zip(uln, range(10, 0, -1)))
    if total % 11 != 10:
        raise ValueError("Enter a valid ULN: the check digit does not match")
    return uln


def normalise_nhs_number(raw: str) -> str:
    """A 10-digit NHS number with a correct modulus 11 check digit (NHS Data Dictionary).

    The first nine digits weighted 10..2 are summed; 11 minus the remainder mod 11 is the
    check digit, 11 counts as 0, and 10 means the number cannot be valid.
    """
    nhs = re.sub(r"[\s-]", "", raw.strip())
    if not re.fullmatch(r"[0-9]{10}", nhs):
        raise ValueError("Enter an NHS number of 10 digits, like 943 476 5919")
    total = sum(int(d) * w for d, w in zip(nhs[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(nhs[9]):
        raise ValueError("Enter a valid NHS number: the check digit does not match")
    return nhs


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(raw: str) -> str:
    """A UK postcode in its canonical form (upper case, one space before the inward code)."""
    pc = re.sub(r"\s+", "", raw.strip().upper())
    if pc == "GIR0AA":
        return "GIR 0AA"
    m = _POSTCODE.match(pc)
    if not m:
        raise ValueError("Enter a real postcode, like SW1A 1AA")
    return f"{m.group(1)} {m.group(2)}"
