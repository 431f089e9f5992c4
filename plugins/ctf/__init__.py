"""The ctf plugin: the DfE Common Transfer File (CTF 24 XML) in and out (issue #5).

* ``sen_register_for_file``: parse an uploaded CTF into SEN register entries, or every bad
  record's (line, reason). Core matches children by UPN and applies the entries, all or
  nothing, in its import job (``core.sen.jobs``); this plugin only reads the file.
* ``sen_register_export_for_pupils``: write pupils' SEN data as a CTF for a receiving
  school (format ``"ctf"``).

The SEND Code of Practice 2015 (paragraph 6.80 onwards) expects the SEN information a school
holds to move with the pupil; the CTF is how schools in England pass it on (DfE "Common
Transfer File" specification).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.plugin_api import PupilRecord, SenRegisterImport, TenantInfo, hookimpl
from plugins.ctf.parse import looks_like_ctf, parse_ctf
from plugins.ctf.settings import NAME, SETTINGS
from plugins.ctf.write import write_ctf

TITLE = "Common Transfer File (school MIS)"
PLUGIN_API = ((1, 0), (2, 0))

__all__ = ["NAME", "TITLE", "PLUGIN_API", "SETTINGS", "sen_register_for_file", "sen_register_export_for_pupils"]


@hookimpl
def sen_register_for_file(tenant: TenantInfo, filename: str, data: bytes) -> SenRegisterImport | None:
    if not looks_like_ctf(data):
        return None
    return parse_ctf(data, today=dt.date.today(), max_pupils=int(tenant.settings.get("max_pupils", 100_000)))


@hookimpl
def sen_register_export_for_pupils(tenant: TenantInfo, pupils: Sequence[PupilRecord], destination_urn: str,
                                   format: str) -> tuple[str, bytes] | None:
    if format != "ctf":
        return None
    return write_ctf(tenant, pupils, destination_urn, now=dt.datetime.now(dt.timezone.utc),
                     supplier_id=str(tenant.settings.get("supplier_id", "Sendbridge")))
