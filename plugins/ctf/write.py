"""Writing a Common Transfer File (CTF 24 XML) of pupils' SEN data for a receiving school.

The council is the sender: ``SourceSchool`` carries its LA code with the establishment
number ``LA`` (how LA-originated CTFs are marked), ``DestSchool`` the receiving school's URN.
Only what the council holds is written: identity, SEN provision and ranked needs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from core.plugin_api import PupilRecord, TenantInfo

CTF_VERSION = "24.0"


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, name)
    if text is not None:
        el.text = text
    return el


def write_ctf(tenant: TenantInfo, pupils: Sequence[PupilRecord], destination_urn: str, *,
              now: dt.datetime, supplier_id: str) -> tuple[str, bytes]:
    """``(filename, bytes)`` of a CTF for ``destination_urn`` (a 6 or 7 digit URN)."""
    if not re.fullmatch(r"[0-9]{6,7}", destination_urn):
        raise ValueError("destination_urn must be a 6 or 7 digit URN")
    root = ET.Element("CTfile")
    header = _sub(root, "Header")
    _sub(header, "DocumentName", "Common Transfer File")
    _sub(header, "CTFversion", CTF_VERSION)
    _sub(header, "DateTime", now.strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(header, "DocumentQualifier", "partial")
    _sub(header, "SupplierID", supplier_id)
    source = _sub(header, "SourceSchool")
    _sub(source, "LEA", tenant.la_code)
    _sub(source, "Estab", "LA")
    _sub(source, "SchoolName", tenant.name)
    # The academic year starts on 1 September.
    _sub(source, "AcademicYear", str(now.year if now.month >= 9 else now.year - 1))
    dest = _sub(header, "DestSchool")
    _sub(dest, "URN", destination_urn)
    data = _sub(root, "CTFpupilData")
    for p in pupils:
        pupil = _sub(data, "Pupil")
        _sub(pupil, "UPN", p.upn)
        _sub(pupil, "Surname", p.family_name)
        _sub(pupil, "Forename", p.given_name)
        _sub(pupil, "DOB", p.date_of_birth.isoformat())
        if p.sen_provision is not None:
            sen = _sub(_sub(pupil, "SENhistory"), "SEN")
            _sub(sen, "SENprovision", p.sen_provision)
        if p.sen_needs:
            needs = _sub(pupil, "SENneeds")
            for rank, code in enumerate(p.sen_needs, start=1):
                need = _sub(needs, "SENneed")
                _sub(need, "SENtype", code)
                _sub(need, "SENtypeRank", str(rank))
    ET.indent(root)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    filename = f"{tenant.la_code}LA_CTF_{destination_urn}_{now.strftime('%Y%m%d%H%M%S')}.xml"
    return filename, body + b"\n"
