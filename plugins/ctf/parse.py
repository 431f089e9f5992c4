"""Reading a Common Transfer File (CTF 24 XML) into SEN register entries.

A file with any DTD (and so any entity declaration) is refused: the "billion laughs" and
external-entity attacks need one, and a CTF never has one (the same rule as defusedxml's
``forbid_dtd``). Good files are read with lxml (libxml2), no DTD loaded, no entity
substituted, no network; a file with problems is read again with expat directly, which gives
the line number of every element for the report.

Only what the SEN register needs is read: the source school's URN, and per pupil the UPN,
names, date of birth, SEN provision (``SENhistory/SEN/SENprovision``; the entry with the
latest ``StartDate`` wins) and ranked needs (``SENneeds/SENneed/SENtype`` + ``SENtypeRank``).

Error reasons name the element and the rule, never the value: the report is kept and shown,
and a value may be personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from operator import mul
from xml.parsers import expat

from lxml import etree

from core.children.identifiers import normalise_upn
from core.plugin_api import SenRegisterEntry, SenRegisterImport
from plugins.ctf.codes import NEED_TYPES, PROVISIONS

#: A file whose first kilobytes hold no ``<CTfile`` is not a CTF: another plugin's format.
_SNIFF_BYTES = 4096
#: Children and young people the council may hold a record for are 0-25 (CFA 2014 s83).
_OLDEST_YEARS = 26


class _Refused(Exception):
    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason


def looks_like_ctf(data: bytes) -> bool:
    return b"<CTfile" in data[:_SNIFF_BYTES]


@dataclass
class _Pupil:
    line: int
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: (line, start date text, provision code)
    sen: list[tuple[int, str, str]] = field(default_factory=list)
    #: (line, type, rank text)
    needs: list[tuple[int, str, str]] = field(default_factory=list)
    current_sen: dict[str, tuple[int, str]] = field(default_factory=dict)
    current_need: dict[str, tuple[int, str]] = field(default_factory=dict)
    sen_line: int = 0
    need_line: int = 0


_PUPIL_FIELDS = ("UPN", "Surname", "Forename", "DOB")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _check_pupil(p: _Pupil, today: dt.date, errors: list[tuple[int, str]],
                 urn: str | None = None) -> SenRegisterEntry | None:
    bad = len(errors)
    values: dict[str, str] = {}
    for name in _PUPIL_FIELDS:
        line, text = p.fields.get(name, (p.line, ""))
        if not text:
            errors.append((line, f"{name} is missing"))
            continue
        values[name] = text
    upn = ""
    if "UPN" in values:
        try:
            upn = normalise_upn(values["UPN"])
        except ValueError as exc:
            errors.append((p.fields["UPN"][0], f"UPN is not valid: {exc}"))
    for name in ("Surname", "Forename"):
        if len(values.get(name, "")) > 100:
            errors.append((p.fields[name][0], f"{name} is longer than 100 characters"))
    dob = None
    if "DOB" in values:
        dob = _date(values["DOB"])
        if dob is None:
            errors.append((p.fields["DOB"][0], "DOB is not a date in the form YYYY-MM-DD"))
        elif dob > today:
            errors.append((p.fields["DOB"][0], "DOB is in the future"))
        elif dob < today.replace(year=today.year - _OLDEST_YEARS, day=min(today.day, 28)):
            errors.append((p.fields["DOB"][0], "DOB makes the pupil older than 25"))
    provision = "N"
    if p.sen:
        dated = []
        for line, start, code in p.sen:
            if code not in PROVISIONS:
                errors.append((line, "SENprovision is not N, K or E"))
            if start and _date(start) is None:
                errors.append((line, "StartDate is not a date in the form YYYY-MM-DD"))
            dated.append((_date(start) or dt.date.min, line, code))
        # The current provision is the latest-starting SEN entry (file order breaks ties).
        provision = max(dated)[2]
    needs: list[tuple[int, str]] = []
    for line, code, rank_text in p.needs:
        if code not in NEED_TYPES:
            errors.append((line, "SENtype is not a DfE SEN type code"))
        # isdecimal, not isdigit: int() refuses superscripts, which isdigit accepts.
        if not rank_text.isdecimal() or int(rank_text) < 1:
            errors.append((line, "SENtypeRank is not a whole number from 1"))
            continue
        needs.append((int(rank_text), code))
    ranks = sorted(r for r, _ in needs)
    if ranks and ranks != list(range(1, len(ranks) + 1)):
        errors.append((p.line, "SENtypeRank values are not 1, 2, ... with no gaps or repeats"))
    if needs and provision == "N":
        errors.append((p.line, "SEN needs are recorded but SENprovision is N (no special educational need)"))
    if len({c for _, c in needs}) != len(needs):
        errors.append((p.line, "The same SENtype is recorded twice"))
    if len(errors) > bad or dob is None:
        return None
    return SenRegisterEntry(line=p.line, upn=upn, given_name=values["Forename"], family_name=values["Surname"],
                            date_of_birth=dob, sen_provision=provision,  # type: ignore[arg-type]
                            sen_needs=tuple(c for _, c in sorted(needs)), urn=urn)


def parse_ctf(data: bytes, *, today: dt.date, max_pupils: int = 100_000) -> SenRegisterImport:
    """Parse a CTF. Every problem is reported as (line, reason); entries are returned only
    when there are none (the import is all or nothing).

    Good files, the common case, take the fast path: lxml's tree, with each pupil's line
    found by scanning for its start tag. Anything unusual (a DTD, an error, tags the scan
    cannot pair up) goes through the streaming parser, which knows every element's line.
    """
    if b"<!DOCTYPE" not in data and b"<!ENTITY" not in data:
        fast = _parse_fast(data, today=today, max_pupils=max_pupils)
        if fast is not None:
            return fast
    return _parse_streaming(data, today=today, max_pupils=max_pupils)


_PUPIL_TAG = re.compile(rb"<Pupil[\s>/]")
# Comments and processing instructions are dropped while parsing, as the streaming parser
# drops them, so a pupil's children are elements only. No DTD is loaded, no entity
# substituted, the network never used. (A file with a DTD never gets here; one the byte check
# missed, in another encoding, is sent on to the streaming parser, which refuses it.) A parser
# object per call: lxml's are not safe to share between threads.
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "remove_comments": True,
                   "remove_pis": True}
#: UPN characters to their check values (DfE guidance: digits count as themselves, a letter
#: as its index in the check-letter alphabet), for the fast path's check; ``normalise_upn``
#: is the definition, and any UPN this check refuses goes to it for the reason.
_UPN_SHAPE = re.compile(r"[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]")
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_VALUES = bytes.maketrans(b"0123456789" + _UPN_LETTERS.encode(), bytes(range(10)) + bytes(range(23)))
_UPN_WEIGHTS = range(2, 14)


def _parse_fast(data: bytes, *, today: dt.date, max_pupils: int) -> SenRegisterImport | None:
    """Entries of a good file, or ``None``: let the streaming parser find and place the problems.

    Every record is checked here with the same rules as :func:`_check_pupil`, but only to
    accept: the first thing wrong sends the whole file to the streaming parser, which
    reports every problem with its line. So the fast path needs no messages and little
    bookkeeping (with lxml it measured at about twice the speed of ElementTree's tree
    checked by :func:`_check_pupil`).
    """
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.LxmlError:
        return None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        return None
    pupil_data = root.find("CTFpupilData") if root.tag == "CTfile" else None
    if pupil_data is None:
        return None
    elements = pupil_data.findall("Pupil")
    if not elements or len(elements) > max_pupils:
        return None
    lines = []
    line, previous = 1, 0
    for match in _PUPIL_TAG.finditer(data):
        line += data.count(b"\n", previous, match.start())
        previous = match.start()
        lines.append(line)
    if len(lines) != len(elements):
        return None
    header_urn = root.findtext("Header/SourceSchool/URN")
    source_urn = header_urn.strip() if header_urn and header_urn.strip() else None
    if source_urn is not None and not (source_urn.isdigit() and 6 <= len(source_urn) <= 7):
        return None
    oldest = today.replace(year=today.year - _OLDEST_YEARS, day=min(today.day, 28))
    fromisoformat = dt.date.fromisoformat
    entries: list[SenRegisterEntry] = []
    seen: set[str] = set()
    for element, line in zip(elements, lines):
        upn = surname = forename = dob_text = None
        sen: list[tuple[dt.date, int, str]] = []
        needs: list[tuple[int, str]] = []
        # The first element of each name counts (as ``findtext`` does).
        for child in element:
            tag = child.tag
            if tag == "UPN":
                if upn is None:
                    upn = child.text or ""
            elif tag == "Surname":
                if surname is None:
                    surname = child.text or ""
            elif tag == "Forename":
                if forename is None:
                    forename = child.text or ""
            elif tag == "DOB":
                if dob_text is None:
                    dob_text = child.text or ""
            elif tag == "SENhistory":
                for entry in child:
                    if entry.tag != "SEN":
                        continue
                    start = code = None
                    for item in entry:
                        if item.tag == "StartDate":
                            if start is None:
                                start = (item.text or "").strip()
                        elif item.tag == "SENprovision" and code is None:
                            code = (item.text or "").strip()
                    if code not in PROVISIONS:
                        return None
                    if start:
                        try:
                            sen.append((fromisoformat(start), line, code))  # type: ignore[arg-type]
                        except ValueError:
                            return None
                    else:
                        sen.append((dt.date.min, line, code))  # type: ignore[arg-type]
            elif tag == "SENneeds":
                for need in child:
                    if need.tag != "SENneed":
                        continue
                    kind = rank = None
                    for item in need:
                        if item.tag == "SENtype":
                            if kind is None:
                                kind = (item.text or "").strip()
                        elif item.tag == "SENtypeRank" and rank is None:
                            rank = (item.text or "").strip()
                    if kind not in NEED_TYPES or not rank or not rank.isdecimal() or int(rank) < 1:
                        return None
                    needs.append((int(rank), kind))  # type: ignore[arg-type]
        if not upn or not surname or not forename or not dob_text:
            return None
        upn = upn.strip().upper().replace(" ", "")
        surname = surname.strip()
        forename = forename.strip()
        if (not _UPN_SHAPE.fullmatch(upn) or not surname or not forename or len(surname) > 100
                or len(forename) > 100 or upn in seen):
            return None
        values = upn.encode().translate(_UPN_VALUES)
        if _UPN_LETTERS[sum(map(mul, values[1:], _UPN_WEIGHTS)) % 23] != upn[0]:
            return None
        try:
            dob = fromisoformat(dob_text.strip())
        except ValueError:
            return None
        if dob > today or dob < oldest:
            return None
        # The current provision is the latest-starting SEN entry (as in _check_pupil).
        provision = max(sen)[2] if sen else "N"
        if needs:
            needs.sort()
            if (provision == "N" or [r for r, _ in needs] != list(range(1, len(needs) + 1))
                    or len({c for _, c in needs}) != len(needs)):
                return None
        seen.add(upn)
        entries.append(SenRegisterEntry(line=line, upn=upn, given_name=forename, family_name=surname,
                                        date_of_birth=dob, sen_provision=provision,  # type: ignore[arg-type]
                                        sen_needs=tuple(c for _, c in needs), urn=source_urn))
    return SenRegisterImport(source_urn=source_urn, entries=tuple(entries))


def _parse_streaming(data: bytes, *, today: dt.date, max_pupils: int) -> SenRegisterImport:
    errors: list[tuple[int, str]] = []
    entries: list[SenRegisterEntry] = []
    seen_upns: dict[str, int] = {}
    stack: list[str] = []
    text: list[str] = []
    pupil: _Pupil | None = None
    urn: list[str] = []
    count = 0
    parser = expat.ParserCreate()

    def refuse_dtd(*_args: object) -> None:
        raise _Refused(parser.CurrentLineNumber, "The file declares a DTD or entities, which a CTF never has")

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal pupil, count
        line = parser.CurrentLineNumber
        if not stack and name != "CTfile":
            raise _Refused(line, "The file is XML but not a Common Transfer File (its root is not CTfile)")
        stack.append(name)
        text.clear()
        if name == "Pupil" and stack[-2:-1] == ["CTFpupilData"]:
            count += 1
            if count > max_pupils:
                raise _Refused(line, f"The file has more than {max_pupils} pupils")
            pupil = _Pupil(line=line)
        elif pupil is not None:
            if name == "SEN":
                pupil.current_sen = {}
                pupil.sen_line = line
            elif name == "SENneed":
                pupil.current_need = {}
                pupil.need_line = line

    def end(name: str) -> None:
        nonlocal pupil
        value = "".join(text).strip()
        text.clear()
        parent = stack[-2] if len(stack) > 1 else ""
        line = parser.CurrentLineNumber
        if pupil is not None:
            if name in _PUPIL_FIELDS and parent == "Pupil":
                pupil.fields[name] = (line, value)
            elif name in ("SENprovision", "StartDate") and parent == "SEN":
                pupil.current_sen[name] = (line, value)
            elif name == "SEN" and parent == "SENhistory":
                code_line, code = pupil.current_sen.get("SENprovision", (pupil.sen_line, ""))
                pupil.sen.append((code_line, pupil.current_sen.get("StartDate", (0, ""))[1], code))
            elif name in ("SENtype", "SENtypeRank") and parent == "SENneed":
                pupil.current_need[name] = (line, value)
            elif name == "SENneed":
                type_line, code = pupil.current_need.get("SENtype", (pupil.need_line, ""))
                pupil.needs.append((type_line, code, pupil.current_need.get("SENtypeRank", (0, ""))[1]))
            elif name == "Pupil":
                entry = _check_pupil(pupil, today, errors)
                if entry is not None:
                    first = seen_upns.setdefault(entry.upn, entry.line)
                    if first != entry.line:
                        errors.append((entry.line, f"The same UPN is already on line {first}"))
                    else:
                        entries.append(entry)
                pupil = None
        elif name == "URN" and stack[-3:-1] == ["Header", "SourceSchool"]:
            urn.append(value)
        stack.pop()

    def chars(data_: str) -> None:
        text.append(data_)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.UnparsedEntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        return SenRegisterImport(source_urn=None, entries=(), errors=((exc.line, exc.reason),))
    except expat.ExpatError as exc:
        return SenRegisterImport(source_urn=None, entries=(),
                                 errors=((exc.lineno, f"The file is not well-formed XML: {expat.ErrorString(exc.code)}"),))
    source_urn = urn[0] if urn and urn[0] else None
    if source_urn is not None and not (source_urn.isdigit() and 6 <= len(source_urn) <= 7):
        errors.append((0, "Header SourceSchool URN is not a 6 or 7 digit number"))
        source_urn = None
    if count == 0:
        errors.append((1, "The file has no pupils (CTFpupilData/Pupil)"))
    if errors:
        return SenRegisterImport(source_urn=source_urn, entries=(), errors=tuple(sorted(errors)))
    return SenRegisterImport(source_urn=source_urn,
                             entries=tuple(replace(e, urn=source_urn) for e in entries))
