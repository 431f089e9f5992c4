"""A real OpenID Connect provider on 127.0.0.1 for the SSO tests (RECIPES.md section 5).

``oidc_provider`` (session-scoped) starts ``node tests/oidc/provider.mjs`` with two issuers,
each on its own free port, polls their discovery documents, and stops the process at the
end of the session. Import it into a test module or conftest where it is needed::

    from tests.oidc_provider import oidc_provider  # noqa: F401  (a fixture)

* Issuer **A** plays a council's directory (staff, with ``groups``), GOV.UK One Login
  (families) and the platform operators' provider. Issuer **B** plays a school's provider
  (``roles`` and ``urn`` claims) and a second council directory whose people share e-mail
  addresses with A's (the no-takeover tests).
* Clients: ``client(issuer, name)``. ``pkjwt`` authenticates with ``private_key_jwt`` (its
  private key is :attr:`OidcProvider.private_key_pem`); the ``tamper-*`` clients make the
  provider misbehave in exactly one way (see provider.mjs), re-signing with its real key;
  ``hs256`` gets ID tokens signed with HMAC (its client secret) instead of the provider's keys.
* :class:`OpAgent` drives the provider's login form without a browser (urllib, a cookie
  jar, no automatic redirects), and stops at the redirect back to ``/sso/callback``.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"

#: Council staff and the people of One Login, at issuer A.
ACCOUNTS_A: dict[str, dict[str, Any]] = {
    "amara": {"email": "amara.okafor@council.example.gov.uk", "email_verified": True, "name": "Amara Okafor",
              "groups": ["send-caseworkers"]},
    "daniel": {"email": "daniel.hughes@council.example.gov.uk", "email_verified": True, "name": "Daniel Hughes",
               "groups": ["send-managers", "send-caseworkers"]},
    "nobody": {"email": "finance.officer@council.example.gov.uk", "email_verified": True, "name": "Finance Officer",
               "groups": ["finance"]},
    "noemail": {"name": "No Address", "groups": ["send-caseworkers"]},
    "parent": {"email": "sam.parent@family.example.com", "email_verified": True},
    "unverified": {"email": "sam.parent@family.example.com", "email_verified": False},
    "operator": {"email": "ops@sendbridge.example", "email_verified": True, "name": "Olu Operator"},
    "priya": {"email": "priya.nair@southvale.example.gov.uk", "email_verified": True, "name": "Priya Nair",
              "groups": ["send-caseworkers"]},
}
#: A school's staff, and look-alikes of A's staff, at issuer B.
ACCOUNTS_B: dict[str, dict[str, Any]] = {
    "senco": {"email": "senco@testprimary.example.sch.uk", "email_verified": True, "name": "Ruth SENCO",
              "roles": ["SENCO"], "urn": "900001"},
    "teacher": {"email": "teacher@testprimary.example.sch.uk", "email_verified": True, "name": "Tom Teacher",
                "roles": ["Teacher"], "urn": "900001"},
    "senco-elsewhere": {"email": "senco@elsewhere.example.sch.uk", "email_verified": True, "name": "Elsewhere SENCO",
                        "roles": ["SENCO"], "urn": "123456"},
    "ruth": {"email": "ruth.adeyemi@oakfield.example.sch.uk", "email_verified": True, "name": "Ruth Adeyemi",
             "roles": ["SENCO"], "urn": "991002"},
    # Same address as A's "amara": another issuer, so another person as far as we know.
    "amara": {"email": "amara.okafor@council.example.gov.uk", "email_verified": True, "name": "Amara Impostor",
              "groups": ["send-caseworkers"]},
}
TAMPERING: dict[str, dict[str, Any]] = {
    "tamper-aud": {"aud": "someone-else"},
    "tamper-azp": {"extra_aud": "someone-else"},
    "tamper-nonce": {"nonce": "not-the-nonce-we-sent"},
    "tamper-iss": {"iss": "https://evil.example"},
    "tamper-exp": {"exp_offset": -3600},
    "tamper-iat": {"iat_offset": 3600},
    "tamper-signature": {"foreign_key": True},
    "tamper-userinfo": {"userinfo_sub": "somebody-else"},
    "tamper-authtime": {"auth_time_offset": -3600},
}


@dataclass
class Issuer:
    name: str
    port: int
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class OidcProvider:
    a: Issuer
    b: Issuer
    #: The ``pkjwt`` client's key (PEM), as the platform holds it.
    private_key_pem: str
    log_path: Path

    def secret(self, issuer: Issuer, client_id: str) -> str:
        return str(issuer.clients[client_id].get("client_secret", ""))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clients(name: str, public_jwk: dict[str, Any]) -> dict[str, dict[str, Any]]:
    clients: dict[str, dict[str, Any]] = {
        "staff": {"client_id": "staff", "client_secret": f"staff-secret-{name}"},
        "school": {"client_id": "school", "client_secret": f"school-secret-{name}"},
        "operator": {"client_id": "operator", "client_secret": f"operator-secret-{name}"},
        "pkjwt": {"client_id": "pkjwt", "token_endpoint_auth_method": "private_key_jwt",
                  "token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [public_jwk]}},
    }
    # The provider signs this one's ID tokens with HMAC (its client secret), not its keys.
    clients["hs256"] = {"client_id": "hs256", "client_secret": f"hs256-secret-{name}-" + "x" * 40,
                        "id_token_signed_response_alg": "HS256"}
    for client_id, tamper in TAMPERING.items():
        clients[client_id] = {"client_id": client_id, "client_secret": f"{client_id}-secret-{name}", "tamper": tamper}
    return clients


def start_provider(tmp: Path) -> tuple[subprocess.Popen[bytes], OidcProvider]:
    key = ECKey.generate_key("P-256", private=True)
    public_jwk = {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig", "alg": "ES256"}
    a = Issuer("a", _free_port(), _clients("a", public_jwk))
    b = Issuer("b", _free_port(), _clients("b", public_jwk))
    config = {"issuers": [
        {"name": i.name, "port": i.port, "clients": list(i.clients.values()), "accounts": accounts}
        for i, accounts in ((a, ACCOUNTS_A), (b, ACCOUNTS_B))
    ]}
    node = shutil.which("node")
    assert node, "node is needed for the OIDC provider (RECIPES.md section 0)"
    log_path = tmp / "oidc-provider.log"
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the process; closed with it
    proc = subprocess.Popen([node, str(SCRIPT)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}, start_new_session=True)
    log.close()
    provider = OidcProvider(a=a, b=b, private_key_pem=key.as_pem(private=True).decode(), log_path=log_path)
    deadline = time.monotonic() + 30
    for issuer in (a, b):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the OIDC provider exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{issuer.url}/.well-known/openid-configuration", timeout=2) as resp:
                    if json.load(resp).get("issuer") == issuer.url:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() > deadline:
                stop_provider(proc)
                raise RuntimeError(f"the OIDC provider did not start:\n{log_path.read_text()}")
            # A process we do not control gives us no event to wait on: poll every 0.05 s.
            time.sleep(0.05)
    return proc, provider


def stop_provider(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    tmp = Path(tempfile.mkdtemp(prefix="sendbridge-oidc-"))
    proc, provider = start_provider(tmp)
    try:
        yield provider
    finally:
        stop_provider(proc)
        (ROOT / "artifacts").mkdir(exist_ok=True)
        shutil.copy(provider.log_path, ROOT / "artifacts" / "oidc-provider.log")
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Driving the provider without a browser


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class OpAgent:
    """A person's browser at the provider: its own cookies (so its own provider session)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects)

    def request(self, url: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode()

    def authorize(self, url: str, login: str | None) -> str:
        """Follow the authorization request, signing in as ``login`` when the provider asks
        (and sending on any form the provider's page would submit by itself, such as its
        "sign out the previous account" step); returns the URL it sends the browser back to
        (``.../sso/callback?...``)."""
        status, headers, body = self.request(url)
        for _ in range(20):
            if status in (302, 303):
                url = urllib.parse.urljoin(url, headers["Location"])
                if urllib.parse.urlsplit(url).path.endswith("/sso/callback"):
                    return url
                status, headers, body = self.request(url)
                continue
            form = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', body, re.S)
            assert status == 200 and form, f"the provider answered {status}: {body[:500]}"
            fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2))}
            if 'name="login"' in form.group(2):
                assert login is not None, "the provider asked who to sign in as"
                fields.update({"login": login, "password": "any"})
            url = urllib.parse.urljoin(url, html.unescape(form.group(1)))
            status, headers, body = self.request(url, fields)
        raise AssertionError("the provider never sent the browser back")


def local(url: str) -> str:
    """The path and query of an absolute URL (the test client already knows the host)."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def meta_refresh(body: str) -> str:
    m = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', body)
    assert m, "no onward address on the page"
    return html.unescape(m.group(1))
