// A real OpenID Connect provider for the SSO tests (RECIPES.md section 5): oidc-provider 9,
// one process serving several issuers, each on its own 127.0.0.1 port.
//
// Configuration comes as JSON in OIDC_TEST_CONFIG (tests/oidc_provider.py writes it):
//   {"issuers": [{"name": "a", "port": 43121,
//                 "clients": [{"client_id": ..., "client_secret": ..., "token_endpoint_auth_method": ...,
//                              "jwks": {"keys": [...]}, "tamper": {...}}],
//                 "accounts": {"<login>": {"email": ..., "email_verified": true, "name": ..., "groups": [...]}}}]}
//
// * Login is a plain form (no fonts or scripts from elsewhere: the browser tests abort any
//   request beyond 127.0.0.1): type an account's login; consent is granted automatically.
// * Any redirect_uri whose path ends in /sso/callback is accepted (test hosts and live-server
//   ports differ per run); everything else about the protocol is oidc-provider's own.
// * A client may carry "tamper": the provider then misbehaves for that client only, re-signing
//   its id_token with the issuer's real key (or, for "foreign_key", a key it never published)
//   so refusal tests see exactly one thing wrong:
//     {"aud": "x"}  {"azp": "x"}  {"extra_aud": "x"}  {"nonce": "x"}  {"iss": "x"}
//     {"exp_offset": -3600}  {"iat_offset": 3600}  {"auth_time_offset": -3600}  {"foreign_key": true}
//     {"userinfo_sub": "x"}
// * A client registered with "id_token_signed_response_alg": "HS256" gets ID tokens signed with
//   its client secret (HMAC) instead of the issuer's published keys.
// Start: OIDC_TEST_CONFIG='{...}' node tests/oidc/provider.mjs   (prints "ready" when listening)

import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{"issuers": []}');

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, issuerName, error) {
  return page(`Sign in to test provider ${issuerName}`, `
    ${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
    <form method="post" action="/interaction/${escapeHtml(uid)}/login">
      <p><label for="login">Username</label><br><input id="login" name="login" autocomplete="username" required></p>
      <p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password"></p>
      <button type="submit">Sign in</button>
    </form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

async function resign(token, privateJwk, changes) {
  const payload = jose.decodeJwt(token);
  const header = jose.decodeProtectedHeader(token);
  const now = Math.floor(Date.now() / 1000);
  const out = { ...payload };
  if (changes.aud !== undefined) out.aud = changes.aud;
  if (changes.extra_aud !== undefined) out.aud = [payload.aud, changes.extra_aud].flat();
  if (changes.azp !== undefined) out.azp = changes.azp;
  if (changes.nonce !== undefined) out.nonce = changes.nonce;
  if (changes.iss !== undefined) out.iss = changes.iss;
  if (changes.exp_offset !== undefined) out.exp = now + changes.exp_offset;
  if (changes.iat_offset !== undefined) out.iat = now + changes.iat_offset;
  if (changes.auth_time_offset !== undefined) out.auth_time = now + changes.auth_time_offset;
  const key = await jose.importJWK(privateJwk, 'RS256');
  return new jose.SignJWT(out).setProtectedHeader({ alg: 'RS256', kid: header.kid, typ: header.typ }).sign(key);
}

async function startIssuer(spec) {
  const issuer = `http://127.0.0.1:${spec.port}`;
  const key = await signingKey(`${spec.name}-1`);
  // Same kid, a key nobody published: a signature the relying party must refuse.
  const foreign = await signingKey(`${spec.name}-1`);
  const tampering = new Map(spec.clients.filter((c) => c.tamper).map((c) => [c.client_id, c.tamper]));
  const accounts = spec.accounts || {};

  const provider = new Provider(issuer, {
    clients: spec.clients.map(({ tamper, ...client }) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://placeholder.sendbridge.test/sso/callback'],
      ...client,
    })),
    jwks: { keys: [key] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups', 'roles', 'urn'],
    },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() { return { sub: id, ...account }; },
      };
    },
    features: { devInteractions: { enabled: false } },
    // HS256 too, so a client can be given an HMAC-signed ID token (relying parties that
    // accept only asymmetric signatures must refuse it).
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: {
      keys: [`test-cookie-key-${spec.name}`],
      // Two issuers on one host (127.0.0.1) would otherwise overwrite each other's cookies.
      names: { session: `_session_${spec.name}`, interaction: `_interaction_${spec.name}`,
               resume: `_interaction_resume_${spec.name}` },
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
    },
  });
  provider.proxy = false;

  // Accept any redirect_uri ending in /sso/callback (test-only: a real provider matches exactly).
  const allowed = (value) => {
    try { return new URL(value).pathname.endsWith('/sso/callback'); } catch { return false; }
  };
  provider.Client.prototype.redirectUriAllowed = allowed;

  provider.on('server_error', (ctx, err) => console.error(`[${spec.name}] server_error`, err));

  provider.use(async (ctx, next) => {
    const login = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (login) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const uid = login[1];
      if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
      const finish = async (accountId) => {
        const { params } = details;
        const grant = details.grantId ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId, clientId: params.client_id });
        grant.addOIDCScope(String(params.scope || 'openid'));
        const grantId = await grant.save();
        const result = { consent: { grantId } };
        if (details.prompt.name === 'login') result.login = { accountId };
        const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
        ctx.status = 303;
        ctx.redirect(returnTo);
      };
      if (ctx.method === 'GET' && !login[2]) {
        if (details.prompt.name === 'consent') {
          await finish(details.session.accountId);
          return;
        }
        ctx.type = 'html';
        ctx.body = loginForm(uid, spec.name);
        return;
      }
      if (ctx.method === 'POST' && login[2]) {
        const form = await readForm(ctx.req);
        const id = (form.get('login') || '').trim();
        if (!accounts[id]) {
          ctx.status = 400;
          ctx.type = 'html';
          ctx.body = loginForm(uid, spec.name, 'There is no account with that username');
          return;
        }
        await finish(id);
        return;
      }
      ctx.throw(405);
    }

    await next();

    if (ctx.path === '/token' && ctx.method === 'POST' && ctx.body && ctx.body.id_token) {
      const clientId = jose.decodeJwt(ctx.body.id_token).aud;
      const changes = tampering.get(clientId);
      if (changes) {
        ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, changes.foreign_key ? foreign : key, changes) };
      }
    }
    if (ctx.path === '/me' && ctx.body && typeof ctx.body === 'object' && ctx.oidc?.client) {
      const changes = tampering.get(ctx.oidc.client.clientId);
      if (changes?.userinfo_sub) ctx.body = { ...ctx.body, sub: changes.userinfo_sub };
    }
  });

  await new Promise((resolve) => {
    createServer(provider.callback()).listen(spec.port, '127.0.0.1', resolve);
  });
  return issuer;
}

const issuers = [];
for (const spec of config.issuers) {
  issuers.push(await startIssuer(spec));
}
console.log(`ready ${issuers.join(' ')}`);
