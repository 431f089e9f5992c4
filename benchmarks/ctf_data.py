"""A Common Transfer File of N made-up pupils, for the import benchmark and fault test.

Deterministic for a given (n, seed): the same file every run. Pupils get valid UPNs (check
letter computed as DfE's guidance says), dates of birth of school age, and a spread of SEN
provision and ranked needs like a large council's register. Run as a script it does
nothing (``make bench`` runs every ``benchmarks/*.py``; this one is a library).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from xml.sax.saxutils import escape

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_NEEDS = ("SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH")
_GIVEN = ("Aisha", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hamza", "Isla", "Jacob", "Kai", "Lena")
_FAMILY = ("Adams", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hussain", "Iqbal", "Jones")


def upn_for(number: int, la_code: str = "901") -> str:
    """A valid permanent UPN: LA code, then 9 digits of ``number``, with its check letter."""
    body = f"{la_code}{number:09d}"
    total = sum(int(ch) * pos for pos, ch in enumerate(body, start=2))
    return _UPN_LETTERS[total % 23] + body


def pupils(n: int, seed: int = 2026) -> list[dict]:
    """The rows (as dicts) that :func:`ctf_bytes` writes, in file order."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        provision = rng.choices("NKE", weights=(70, 25, 5))[0]
        needs: tuple[str, ...] = ()
        if provision != "N":
            needs = tuple(rng.sample(_NEEDS, rng.choice((1, 1, 2))))
        rows.append({
            "upn": upn_for(i + 1),
            "given_name": rng.choice(_GIVEN),
            "family_name": rng.choice(_FAMILY),
            "date_of_birth": dt.date(2009, 9, 1) + dt.timedelta(days=rng.randrange(4000)),
            "provision": provision,
            "needs": needs,
        })
    return rows


def ctf_bytes(rows: list[dict], urn: str = "100001") -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n<Header>\n'
           '<DocumentName>Common Transfer File</DocumentName>\n<CTFversion>24.0</CTFversion>\n'
           '<DateTime>2026-11-27T09:00:00</DateTime>\n<DocumentQualifier>full</DocumentQualifier>\n'
           '<SupplierID>BenchMIS</SupplierID>\n<SourceSchool>\n<LEA>901</LEA>\n<Estab>4000</Estab>\n'
           f'<URN>{urn}</URN>\n<SchoolName>Bench School</SchoolName>\n<AcademicYear>2026</AcademicYear>\n'
           '</SourceSchool>\n</Header>\n<CTFpupilData>\n']
    for r in rows:
        out.append(f"<Pupil>\n<UPN>{r['upn']}</UPN>\n<Surname>{escape(r['family_name'])}</Surname>\n"
                   f"<Forename>{escape(r['given_name'])}</Forename>\n<DOB>{r['date_of_birth'].isoformat()}</DOB>\n"
                   f"<SENhistory>\n<SEN>\n<StartDate>2025-09-01</StartDate>\n<SENprovision>{r['provision']}</SENprovision>\n"
                   "</SEN>\n</SENhistory>\n")
        if r["needs"]:
            out.append("<SENneeds>\n")
            for rank, code in enumerate(r["needs"], start=1):
                out.append(f"<SENneed>\n<SENtype>{code}</SENtype>\n<SENtypeRank>{rank}</SENtypeRank>\n</SENneed>\n")
            out.append("</SENneeds>\n")
        out.append("</Pupil>\n")
    out.append("</CTFpupilData>\n</CTfile>\n")
    return "".join(out).encode()


def generate_ctf(n: int, seed: int = 2026) -> bytes:
    """A CTF of ``n`` pupils."""
    return ctf_bytes(pupils(n, seed))


# ---------------------------------------------------------------------------------------
# A scratch database with one council, the ctf plugin on, and a queued import


ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "ctf-scratch-secret-" + "x" * 40


def create_database(name: str) -> str:
    """A fresh database owned by a non-superuser role ``<name>_owner`` (so FORCE ROW LEVEL
    SECURITY applies to it, as in production), migrated to head; returns its DATABASE_URL."""
    import psycopg

    from core.db import derive_urls
    from migrations import runner

    drop_database(name)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}_owner" LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}_owner"')
    url = f"postgresql://{name}_owner@127.0.0.1:5432/{name}"
    runner.upgrade(derive_urls(url, SECRET))
    return url


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                      (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        for role in (f"{name}_app", f"{name}_owner"):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def queue_import(data: bytes, *, slug: str = "ctf-council", la_code: str = "901") -> tuple[str, str]:
    """In a process whose app is created: provision a council (as the operator would), turn
    the ctf plugin on there, and upload ``data`` through the real service, which stores the
    file and queues the import job after commit. Returns (tenant id, import id)."""
    from core.actors import Actor
    from core.db import db
    from core.permissions import ALL
    from core.plugins.services import set_enabled
    from core.sen.services import start_import
    from core.tenancy import tenant_context
    from tenants.services import provision_tenant

    with db.as_owner() as session:
        tenant_id = provision_tenant(slug=slug, name="CTF Council", la_code=la_code).id
        session.commit()
    with tenant_context(tenant_id):
        set_enabled("ctf", True)
        actor = Actor(tenant_id=tenant_id, kind="system", id="ctf-scratch", permissions=ALL)
        import_id = start_import(actor, filename="register.xml", data=data).id
        db.session.commit()
        db.session.remove()
    return str(tenant_id), str(import_id)


if __name__ == "__main__":
    pass
