"""National identifiers and their check characters."""

from __future__ import annotations

import pytest

from core.children.identifiers import normalise_nhs_number, normalise_postcode, normalise_uln, normalise_upn
from tenants.demo import make_nhs_number, make_uln, make_upn

pytestmark = pytest.mark.smoke


def test_valid_nhs_numbers_are_normalised() -> None:
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"


@pytest.mark.parametrize("raw, message", [
    ("943 476 5918", "check digit"),   # wrong check digit
    ("485 777 3456", "check digit"),   # often quoted as an example, but invalid
    ("12345", "10 digits"),
    ("94347659AB", "10 digits"),
])
def test_invalid_nhs_numbers_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_nhs_number(raw)


def test_an_nhs_number_whose_check_would_be_ten_is_invalid() -> None:
    # 9 digits whose weighted sum leaves remainder 1 -> check 10 -> no valid number exists.
    nine = next(f"{n:09d}" for n in range(10**8, 10**8 + 1000)
                if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1))) % 11 == 1)
    for last in "0123456789":
        with pytest.raises(ValueError):
            normalise_nhs_number(nine + last)


def test_upn_check_letter() -> None:
    upn = make_upn("886", 2001, 2015, 7)
    assert normalise_upn(upn.lower()) == upn
    wrong = ("B" if upn[0] != "B" else "C") + upn[1:]
    with pytest.raises(ValueError, match="check letter"):
        normalise_upn(wrong)


@pytest.mark.parametrize("raw", ["A12345678901", "I123456789012", "A1234567890123", "A12345678901I", "112345678901A"])
def test_malformed_upns_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_upn(raw)


def test_temporary_upn_ending_in_a_letter_is_checked_too() -> None:
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    body = "88620011500" + "A"  # 11 digits and a letter
    total = sum((int(c) if c.isdigit() else letters.index(c)) * p for p, c in enumerate(body, start=2))
    assert normalise_upn(letters[total % 23] + body) == letters[total % 23] + body


def test_uln_checksum() -> None:
    assert normalise_uln("9276308686") == "9276308686"  # the published example
    assert normalise_uln(make_uln(123)) == make_uln(123)
    for bad in ("9276308687", "0276308686", "927630868", "92763086x6"):
        with pytest.raises(ValueError):
            normalise_uln(bad)


def test_demo_identifier_generators_produce_valid_numbers() -> None:
    for n in range(50):
        assert normalise_nhs_number(make_nhs_number(n * 13)).startswith("999")
        normalise_uln(make_uln(n * 11))


@pytest.mark.parametrize("raw, expected", [("sw1a1aa", "SW1A 1AA"), (" EC1A  1BB ", "EC1A 1BB"), ("M1 1AE", "M1 1AE"),
                                           ("b338th", "B33 8TH"), ("gir0aa", "GIR 0AA")])
def test_postcodes_are_normalised(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["SW1A", "12345", "SW1A 1A", "ZZZ 999", ""])
def test_invalid_postcodes_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="postcode"):
        normalise_postcode(raw)
