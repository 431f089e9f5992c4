"""The SEN register pages (issue #5 item 5): upload a CTF (error summary for bad files,
nothing stored), follow the import and its per-record report, download a child's CTF."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.ctf as ctf
from benchmarks.ctf_data import ctf_bytes, pupils
from core.audit.models import AuditEvent
from core.children.models import Child
from core.plugins.services import set_enabled
from core.sen.models import SenImport
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant, postgres_only

pytestmark = postgres_only


@pytest.fixture
def council(tenant_a: Any, use_plugins: Any) -> Any:
    use_plugins(ctf=ctf)
    with in_tenant(tenant_a):
        set_enabled("ctf", True)
    return tenant_a


def _upload(client: Any, data: bytes, filename: str = "school.xml") -> Any:
    return client.post("/sen-register/imports", data={"csrf_token": csrf_token(client, "/sen-register/imports"),
                                                      "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _imports(tenant: Any) -> int:
    with in_tenant(tenant) as session:
        return session.execute(select(func.count()).select_from(SenImport)).scalar_one()


def test_a_caseworker_uploads_a_ctf_and_sees_it_imported(council: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(council, make_user(council, Role.CASEWORKER))
    rows = pupils(3)
    resp = _upload(client, ctf_bytes(rows))
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Imported" in body and "school.xml" in body
    with in_tenant(council) as session:
        assert session.execute(select(func.count()).select_from(Child)
                               .where(Child.upn.in_([r["upn"] for r in rows]))).scalar_one() == 3
    assert "school.xml" in client.get("/sen-register/imports").get_data(as_text=True)


def test_a_file_with_bad_records_shows_each_line_and_imports_nothing(council: Any, make_user: Any,
                                                                    client_for: Any) -> None:
    client = client_for(council, make_user(council, Role.CASEWORKER))
    data = ctf_bytes(pupils(3)).replace(b"<SENprovision>", b"<SENprovision>Q", 1)
    page = client.get(_upload(client, data).headers["Location"])
    body = page.get_data(as_text=True)
    assert "Not imported" in body and "Problems in the file" in body and "SENprovision is not N, K or E" in body


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"%PDF-1.7", "register.xml", "must be a Common Transfer File (XML)"),
    (b"", "register.xml", "Select a Common Transfer File"),
])
def test_a_bad_upload_gets_an_error_summary_and_stores_nothing(council: Any, make_user: Any, client_for: Any,
                                                               data: bytes, filename: str, message: str) -> None:
    client = client_for(council, make_user(council, Role.CASEWORKER))
    resp = _upload(client, data, filename) if data else client.post(
        "/sen-register/imports", data={"csrf_token": csrf_token(client, "/sen-register/imports")})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "There is a problem" in body and message in body
    assert _imports(council) == 0


def test_a_send_officer_may_not_import(council: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(council, make_user(council, Role.SEND_OFFICER))
    assert client.get("/sen-register/imports").status_code == 403


def test_a_child_ctf_downloads_as_an_attachment_and_is_audited(council: Any, make_user: Any, client_for: Any) -> None:
    rows = pupils(1)
    client = client_for(council, make_user(council, Role.SEND_OFFICER))
    caseworker = client_for(council, make_user(council, Role.CASEWORKER))
    _upload(caseworker, ctf_bytes(rows))
    with in_tenant(council) as session:
        child_id = session.execute(select(Child.id).where(Child.upn == rows[0]["upn"])).scalar_one()
    url = f"/sen-register/children/{child_id}/ctf"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "destination_urn": "abc"})
    assert bad.status_code == 400 and "There is a problem" in bad.get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": csrf_token(client, url), "destination_urn": "100002"})
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment;")
    assert rows[0]["upn"].encode() in resp.data and b"<URN>100002</URN>" in resp.data
    with in_tenant(council) as session:
        assert session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "child.exported", AuditEvent.subject_id == child_id)).scalar_one() == 1


def test_another_councils_caseworker_gets_404_for_the_import_and_its_retry(council: Any, tenant_b: Any,
                                                                          make_user: Any, client_for: Any) -> None:
    mine = client_for(council, make_user(council, Role.CASEWORKER))
    status_path = _upload(mine, ctf_bytes(pupils(1))).headers["Location"]
    import_id = status_path.rsplit("/", 1)[1]
    other = client_for(tenant_b, make_user(tenant_b, Role.TENANT_ADMIN))
    assert other.get(f"/sen-register/imports/{import_id}").status_code == 404
    token = csrf_token(other, "/sen-register/imports")
    assert other.post(f"/sen-register/imports/{import_id}/retry", data={"csrf_token": token}).status_code == 404
    assert mine.get(f"/sen-register/imports/{import_id}").status_code == 200


def test_a_stopped_import_is_carried_on_from_its_page(council: Any, make_user: Any, client_for: Any,
                                                     monkeypatch: Any) -> None:
    from core.sen import jobs as sen_jobs

    def dies(*args: Any) -> None:
        raise ConnectionError("worker lost its database")

    real_apply = sen_jobs._apply
    monkeypatch.setattr(sen_jobs, "_apply", dies)
    client = client_for(council, make_user(council, Role.CASEWORKER))
    status_path = _upload(client, ctf_bytes(pupils(2))).headers["Location"]
    body = client.get(status_path).get_data(as_text=True)
    assert "Not imported" in body and "Carry on with the import" in body
    monkeypatch.setattr(sen_jobs, "_apply", real_apply)
    resp = client.post(f"{status_path}/retry", data={"csrf_token": csrf_token(client, status_path)})
    assert resp.status_code == 303
    assert "Imported" in client.get(status_path).get_data(as_text=True)
