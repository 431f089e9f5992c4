"""The ctf plugin reading and writing CTF 24 XML (issue #5 item 5): what it accepts, every
kind of bad record it reports by line, and the DTD tricks it refuses."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

import plugins.ctf as ctf
from benchmarks.ctf_data import ctf_bytes, generate_ctf, pupils, upn_for
from core.plugin_api import PupilRecord, SenRegisterImport, TenantInfo
from plugins.ctf import parse as parse_module
from plugins.ctf.parse import parse_ctf

TODAY = dt.date(2026, 11, 27)
TENANT = TenantInfo(id=uuid.uuid4(), slug="council-a", name="Council A", la_code="901",
                    settings={"supplier_id": "Sendbridge", "max_pupils": 100_000})


def _pupil(**over: object) -> dict:
    row = {"upn": upn_for(7), "given_name": "Ella", "family_name": "Evans", "date_of_birth": dt.date(2015, 3, 4),
           "provision": "K", "needs": ("SLCN", "ASD")}
    row.update(over)
    return row


def _errors(data: bytes) -> list[tuple[int, str]]:
    return list(parse_ctf(data, today=TODAY).errors)


def test_a_good_file_gives_every_pupil_with_ranked_needs_and_the_source_urn() -> None:
    rows = pupils(30)
    parsed = parse_ctf(ctf_bytes(rows, urn="123456"), today=TODAY)
    assert parsed.errors == ()
    assert parsed.source_urn == "123456"
    assert [e.upn for e in parsed.entries] == [r["upn"] for r in rows]
    first = parsed.entries[0]
    assert (first.given_name, first.family_name, first.date_of_birth) == (
        rows[0]["given_name"], rows[0]["family_name"], rows[0]["date_of_birth"])
    assert [(e.sen_provision, e.sen_needs) for e in parsed.entries] == [(r["provision"], r["needs"]) for r in rows]
    # Each entry's line is where its <Pupil> starts.
    text = ctf_bytes(rows, urn="123456").decode().splitlines()
    assert all(text[e.line - 1] == "<Pupil>" for e in parsed.entries)


def test_needs_are_ordered_by_rank_not_by_position_in_the_file() -> None:
    data = ctf_bytes([_pupil()]).replace(b"<SENtypeRank>1</SENtypeRank>", b"<SENtypeRank>X</SENtypeRank>") \
        .replace(b"<SENtypeRank>2</SENtypeRank>", b"<SENtypeRank>1</SENtypeRank>") \
        .replace(b"<SENtypeRank>X</SENtypeRank>", b"<SENtypeRank>2</SENtypeRank>")
    (entry,) = parse_ctf(data, today=TODAY).entries
    assert entry.sen_needs == ("ASD", "SLCN")


def test_the_latest_sen_history_entry_is_the_current_provision() -> None:
    data = ctf_bytes([_pupil(provision="K")]).replace(
        b"<SENhistory>\n", b"<SENhistory>\n<SEN>\n<StartDate>2026-01-10</StartDate>\n<SENprovision>E</SENprovision>\n</SEN>\n")
    (entry,) = parse_ctf(data, today=TODAY).entries
    assert entry.sen_provision == "E"


@pytest.mark.parametrize(("change", "reason"), [
    ((b"<UPN>" + upn_for(7).encode(), b"<UPN>A" + upn_for(7).encode()[1:]), "UPN is not valid"),
    ((b"<UPN>" + upn_for(7).encode() + b"</UPN>", b""), "UPN is missing"),
    ((b"<DOB>2015-03-04", b"<DOB>2015-02-30"), "DOB is not a date"),
    ((b"<DOB>2015-03-04", b"<DOB>2027-03-04"), "DOB is in the future"),
    ((b"<SENprovision>K", b"<SENprovision>S"), "SENprovision is not N, K or E"),
    ((b"<SENtype>ASD", b"<SENtype>DYS"), "SENtype is not a DfE SEN type code"),
    ((b"<SENtypeRank>2", b"<SENtypeRank>3"), "SENtypeRank values are not 1, 2"),
    ((b"<SENtypeRank>2", b"<SENtypeRank>0"), "SENtypeRank is not a whole number"),
    ((b"<SENprovision>K", b"<SENprovision>N"), "SEN needs are recorded but SENprovision is N"),
    ((b"<Forename>Ella</Forename>", b"<Forename></Forename>"), "Forename is missing"),
])
def test_a_bad_record_is_reported_with_its_line_and_nothing_is_returned(change: tuple[bytes, bytes], reason: str) -> None:
    good = ctf_bytes([_pupil(upn=upn_for(1)), _pupil(), _pupil(upn=upn_for(3))])
    # Only the second pupil is spoilt.
    head, first, second, third = good.split(b"<Pupil>")
    bad = b"<Pupil>".join([head, first, second.replace(*change), third])
    assert bad != good
    parsed = parse_ctf(bad, today=TODAY)
    assert parsed.entries == ()
    assert len(parsed.errors) == 1, parsed.errors
    line, text = parsed.errors[0]
    assert text.startswith(reason)
    lines = bad.decode().splitlines()
    second_pupil = [i for i, ln in enumerate(lines, start=1) if ln == "<Pupil>"][1]
    third_pupil = [i for i, ln in enumerate(lines, start=1) if ln == "<Pupil>"][2]
    assert second_pupil <= line < third_pupil  # the line is inside the bad record


def test_reasons_never_repeat_the_values_they_reject() -> None:
    upn = upn_for(7)
    bad = ctf_bytes([_pupil(upn="A" + upn[1:], date_of_birth=dt.date(2015, 3, 4))]).replace(b"2015-03-04", b"2015-02-31")
    errors = _errors(bad)
    assert len(errors) == 2
    assert all(upn[1:] not in reason and "2015" not in reason and "Ella" not in reason for _, reason in errors)


def test_every_bad_record_is_reported_not_just_the_first() -> None:
    rows = [_pupil(upn=upn_for(n)) for n in range(1, 6)]
    data = ctf_bytes(rows).replace(b"<SENprovision>K", b"<SENprovision>Q")
    assert len(_errors(data)) == 5


def test_a_upn_twice_in_one_file_is_reported_on_its_second_line() -> None:
    data = ctf_bytes([_pupil(), _pupil(given_name="Other")])
    (line, reason), = _errors(data)
    assert reason.startswith("The same UPN is already on line ")
    assert line > int(reason.rsplit(" ", 1)[1])


def test_the_fast_path_reads_a_good_file_as_the_streaming_parser_does() -> None:
    # Good files take the lxml fast path; it must accept exactly what the streaming parser
    # (the one that reports errors) accepts, and read it the same.
    rows = [_pupil(upn=upn_for(1), family_name="O'Neil & Zoë"), _pupil(upn=upn_for(2), provision="N", needs=()),
            _pupil(upn=upn_for(3), provision="E", needs=("PD", "VI", "HI"))]
    head, first, second, third = ctf_bytes(rows).split(b"<Pupil>")
    # A comment, a lower-case UPN with spaces round it, an older SEN entry and a processing
    # instruction; the third pupil's needs in the file in another order than their ranks.
    second = second.replace(b"<UPN>" + upn_for(2).encode(), b"<!-- moved in -->\n<UPN>  " + upn_for(2).lower().encode() + b" ")
    first = first.replace(b"<SENhistory>\n", b"<SENhistory>\n<SEN>\n<StartDate>2024-01-10</StartDate>\n"
                                              b"<SENprovision>E</SENprovision>\n</SEN>\n<?mis note?>\n")
    third = third.replace(b"<SENtypeRank>1<", b"<SENtypeRank>X<").replace(b"<SENtypeRank>3<", b"<SENtypeRank>1<") \
        .replace(b"<SENtypeRank>X<", b"<SENtypeRank>3<")
    data = b"<Pupil>".join([head, first, second, third])
    fast = parse_module._parse_fast(data, today=TODAY, max_pupils=10)
    assert fast is not None
    assert fast == parse_module._parse_streaming(data, today=TODAY, max_pupils=10)
    assert [(e.upn, e.family_name, e.sen_provision, e.sen_needs) for e in fast.entries] == [
        (upn_for(1), "O'Neil & Zoë", "K", ("SLCN", "ASD")), (upn_for(2), "Evans", "N", ()),
        (upn_for(3), "Evans", "E", ("HI", "VI", "PD"))]


@pytest.mark.parametrize("spoil", [
    (b"<SENtypeRank>2", b"<SENtypeRank>\xc2\xb2"),  # a superscript two: a digit to isdigit, not to int
    (b"<DOB>2015-03-04", b"<DOB>2015-03-04x"),
    (b"<Surname>Evans", b"<Surname>" + b"E" * 101),
])
def test_the_fast_path_accepts_nothing_the_streaming_parser_reports(spoil: tuple[bytes, bytes]) -> None:
    data = ctf_bytes([_pupil()]).replace(*spoil)
    assert parse_module._parse_fast(data, today=TODAY, max_pupils=10) is None
    assert parse_ctf(data, today=TODAY).errors


def test_a_dtd_in_another_encoding_is_refused_too() -> None:
    # The byte check for "<!DOCTYPE" cannot see one in UTF-16; the fast path sees it in the tree.
    payload = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE CTfile [<!ENTITY a "aaaa">]>\n'
               "<CTfile><CTFpupilData><Pupil><UPN>&a;</UPN></Pupil></CTFpupilData></CTfile>").encode("utf-16")
    assert parse_module._parse_fast(payload, today=TODAY, max_pupils=10) is None
    (line, reason), = _errors(payload)
    assert "DTD" in reason and line == 2


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<CTfile>&b;</CTfile>',
    b'<?xml version="1.0"?>\n<!DOCTYPE CTfile SYSTEM "file:///etc/passwd">\n<CTfile></CTfile>',
])
def test_dtds_and_entities_are_refused(payload: bytes) -> None:
    (line, reason), = _errors(payload)
    assert "DTD" in reason and line == 2


def test_malformed_xml_is_one_error_with_its_line() -> None:
    data = ctf_bytes([_pupil()]).replace(b"</Surname>", b"</Surnam>")
    (line, reason), = _errors(data)
    assert reason.startswith("The file is not well-formed XML")
    assert data.decode().splitlines()[line - 1].endswith("</Surnam>")


def test_a_file_with_no_pupils_or_another_root_is_reported() -> None:
    assert _errors(ctf_bytes([]))[0][1].startswith("The file has no pupils")
    assert parse_ctf(b"<CTfileX/>", today=TODAY).errors[0][1].startswith("The file is XML but not a Common Transfer File")


def test_too_many_pupils_are_refused() -> None:
    assert "more than 2 pupils" in parse_ctf(generate_ctf(3), today=TODAY, max_pupils=2).errors[0][1]


def test_hook_sen_register_for_file() -> None:
    data = generate_ctf(5)
    answer = ctf.sen_register_for_file(tenant=TENANT, filename="school.xml", data=data)
    assert isinstance(answer, SenRegisterImport) and len(answer.entries) == 5 and answer.errors == ()
    # Not a CTF (another plugin's format): None, so the next plugin may answer.
    assert ctf.sen_register_for_file(tenant=TENANT, filename="school.csv", data=b"upn,name\n") is None
    small = TenantInfo(id=TENANT.id, slug="a", name="A", la_code="901", settings={"max_pupils": 4})
    assert ctf.sen_register_for_file(tenant=small, filename="school.xml", data=data).errors


def test_hook_sen_register_export_for_pupils() -> None:
    pupil = PupilRecord(upn=upn_for(9), given_name="Zoë", family_name="O'Neil & Co", date_of_birth=dt.date(2014, 5, 6),
                        sen_provision="E", sen_needs=("ASD", "SLCN", "HI"))
    none = PupilRecord(upn=upn_for(10), given_name="Al", family_name="Bo", date_of_birth=dt.date(2014, 5, 7))
    filename, body = ctf.sen_register_export_for_pupils(tenant=TENANT, pupils=[pupil, none], destination_urn="654321",
                                                        format="ctf")
    assert filename.startswith("901LA_CTF_654321_") and filename.endswith(".xml")
    assert b"<CTFversion>24.0</CTFversion>" in body and b"<URN>654321</URN>" in body
    # What we write, we (and so a school's MIS) read back exactly.
    parsed = parse_ctf(body, today=TODAY)
    assert parsed.errors == ()
    assert [(e.upn, e.given_name, e.family_name, e.date_of_birth, e.sen_provision, e.sen_needs) for e in parsed.entries] == [
        (pupil.upn, "Zoë", "O'Neil & Co", pupil.date_of_birth, "E", ("ASD", "SLCN", "HI")),
        (none.upn, "Al", "Bo", none.date_of_birth, "N", ())]
    assert ctf.sen_register_export_for_pupils(tenant=TENANT, pupils=[pupil], destination_urn="654321",
                                              format="csv") is None
    with pytest.raises(ValueError):
        ctf.sen_register_export_for_pupils(tenant=TENANT, pupils=[pupil], destination_urn="12", format="ctf")
