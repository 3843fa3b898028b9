// selfcheck.mjs — quick end-to-end check of provider.mjs, no dependencies.
//
// Usage: node selfcheck.mjs        (after `npm ci` in this directory)
//
// Starts provider.mjs with a temporary config, then acts as a non-browser RP:
//  1. discovery: end_session_endpoint and authorization_response_iss_parameter_supported
//  2. authorization code + PKCE with client_secret_basic (rp-basic) and vtr ["Cl.Cm.P2"],
//     following Location headers by hand with a small cookie jar until the redirect_uri;
//     token exchange; id_token has nonce, sub, vot = "P2"; userinfo works (vot P2 too)
//  3. a second flow (same cookies) with private_key_jwt (rp-jwt) and no vtr -> vot "P0";
//     client assertion aud = issuer, = token endpoint URL, and a wrong aud (rejected)
//  4. client_credentials with and without `resource` -> JWT access token, typ at+jwt
//  5. RP-initiated logout: GET end_session -> 200 HTML confirm form; POST the form
//     (xsrf + logout=yes) -> 303 to post_logout_redirect_uri with state
// Prints `selfcheck ok` and exits 0, or prints the failure and exits 1.

import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const log = (...args) => console.log(...args);

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

function decodeJwt(jwt) {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

// --- minimal cookie jar (name + path; domain is always 127.0.0.1) ----------
class CookieJar {
  #cookies = new Map(); // "name\npath" -> { name, value, path, expires }

  store(url, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const reqPath = new URL(url).pathname;
      let path = reqPath.slice(0, reqPath.lastIndexOf('/')) || '/';
      let expires = Infinity;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v;
        else if (key === 'max-age') expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expires === Infinity) expires = Date.parse(v);
      }
      const id = `${name}\n${path}`;
      if (expires <= Date.now() || value === '') this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path, expires });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => c.expires > Date.now())
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

async function request(jar, url, init = {}) {
  const headers = { ...(init.headers || {}) };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

// Follow Location headers until one points at redirectUri; return that URL.
async function followToRedirectUri(jar, startUrl, redirectUri) {
  let url = startUrl;
  for (let hop = 0; hop < 15; hop += 1) {
    const res = await request(jar, url);
    const location = res.headers.get('location');
    if (!location) {
      throw new Error(`no redirect from ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    await res.arrayBuffer();
    const next = new URL(location, url).href;
    log(`  ${res.status} ${new URL(url).pathname} -> ${next.startsWith(redirectUri) ? 'redirect_uri' : new URL(next).pathname}`);
    if (next.startsWith(redirectUri)) return new URL(next);
    url = next;
  }
  throw new Error('too many redirects');
}

function pkce() {
  const verifier = b64u(randomBytes(32));
  const challenge = b64u(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

// ES256 client assertion signed with node:crypto (JOSE wants raw r||s)
function clientAssertion(privateKey, kid, clientId, aud) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
  const payload = b64u(JSON.stringify({ iss: clientId, sub: clientId, aud, jti: randomUUID(), iat: now, exp: now + 60 }));
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64u(sig)}`;
}

async function tokenRequest(endpoint, body, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: new URLSearchParams(body) });
  return { status: res.status, json: await res.json() };
}

// Runs one authorization code + PKCE flow; returns the token response JSON.
async function codeFlow({ jar, discovery, issuer, clientId, redirectUri, vtr, tokenAuth }) {
  const { verifier, challenge } = pkce();
  const state = b64u(randomBytes(12));
  const nonce = b64u(randomBytes(12));
  const auth = new URL(discovery.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(vtr ? { vtr } : {}),
  });
  const cb = await followToRedirectUri(jar, auth.href, redirectUri);
  assert(!cb.searchParams.get('error'), `authorization error ${cb.searchParams.get('error')}: ${cb.searchParams.get('error_description')}`);
  assert(cb.searchParams.get('state') === state, 'state round-trips');
  assert(cb.searchParams.get('iss') === issuer, 'iss on the authorization response (RFC 9207)');
  const code = cb.searchParams.get('code');
  assert(code, 'code present');

  const { body, basic } = tokenAuth();
  const tok = await tokenRequest(discovery.token_endpoint, {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...body,
  }, basic);
  assert(tok.status === 200, `token response 200, got ${tok.status} ${JSON.stringify(tok.json)}`);
  const idt = decodeJwt(tok.json.id_token);
  assert(idt.header.alg === 'ES256', 'id_token alg ES256');
  assert(idt.payload.iss === issuer, 'id_token iss');
  assert(idt.payload.aud === clientId, 'id_token aud');
  assert(idt.payload.nonce === nonce, 'id_token nonce');
  return { tok, idt };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-selfcheck-'));
  const rpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rpKid = 'rp-jwt-key';
  const redirectUri = 'http://127.0.0.1:1/auth/callback/test';
  const postLogout = 'http://127.0.0.1:1/';
  const audience = 'https://scaffold.test/api';
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({
    port: 0,
    clients: [
      { client_id: 'rp-basic', client_secret: 'rp-basic-secret', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogout] },
      { client_id: 'rp-jwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...rpKey.publicKey.export({ format: 'jwk' }), kid: rpKid, alg: 'ES256', use: 'sig' }] }, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogout] },
      { client_id: 'api-client', client_secret: 'api-secret', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    ],
    account: { sub: 'user-123' },
    resource: { audience, scope: 'groups:read groups:write' },
  }, null, 2));

  const child = spawn(process.execPath, [join(here, 'provider.mjs'), cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const killTimer = setTimeout(() => { child.kill('SIGKILL'); }, 60_000);

  try {
    const issuer = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /^ready (\S+)\n/m.exec(out);
        if (m) resolve(m[1]);
      });
      exited.then(({ code }) => reject(new Error(`provider exited early (${code}): ${stderr}`)));
      setTimeout(() => reject(new Error(`provider not ready in 15s: ${stderr}`)), 15_000);
    });
    log(`provider ${issuer}`);
    assert(/^http:\/\/127\.0\.0\.1:\d+$/.test(issuer), 'issuer format');

    // 1. discovery
    const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert(discovery.issuer === issuer, 'discovery issuer');
    assert(discovery.end_session_endpoint === `${issuer}/session/end`, 'end_session_endpoint advertised');
    assert(discovery.authorization_response_iss_parameter_supported === true, 'RFC 9207 advertised');
    assert(discovery.code_challenge_methods_supported.join() === 'S256', 'S256 only');
    log('discovery ok: end_session_endpoint, authorization_response_iss_parameter_supported=true');

    const jar = new CookieJar();

    // 2. client_secret_basic + vtr P2 (fresh jar: login + consent interactions)
    log('code flow rp-basic (client_secret_basic, vtr ["Cl.Cm.P2"]):');
    const basicFlow = await codeFlow({
      jar, discovery, issuer, clientId: 'rp-basic', redirectUri, vtr: '["Cl.Cm.P2"]',
      tokenAuth: () => ({ body: {}, basic: ['rp-basic', 'rp-basic-secret'] }),
    });
    assert(basicFlow.idt.payload.sub === 'user-123', 'id_token sub');
    assert(basicFlow.idt.payload.vot === 'P2', `id_token vot P2, got ${basicFlow.idt.payload.vot}`);
    log(`  id_token: sub=${basicFlow.idt.payload.sub} vot=${basicFlow.idt.payload.vot} nonce ok, alg=${basicFlow.idt.header.alg}`);

    // the opaque access token works at userinfo
    const ui = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${basicFlow.tok.json.access_token}` } });
    assert(ui.status === 200, `userinfo 200, got ${ui.status}`);
    const userinfo = await ui.json();
    assert(userinfo.sub === 'user-123' && userinfo.vot === 'P2', `userinfo sub/vot, got ${JSON.stringify(userinfo)}`);
    log(`  userinfo: ${JSON.stringify(userinfo)}`);

    // 3. private_key_jwt, no vtr -> P0; check which client assertion aud values are accepted
    for (const aud of [issuer, discovery.token_endpoint]) {
      log(`code flow rp-jwt (private_key_jwt, aud=${aud}, no vtr):`);
      const jwtFlow = await codeFlow({
        jar, discovery, issuer, clientId: 'rp-jwt', redirectUri,
        tokenAuth: () => ({
          body: {
            client_id: 'rp-jwt',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: clientAssertion(rpKey.privateKey, rpKid, 'rp-jwt', aud),
          },
        }),
      });
      assert(jwtFlow.idt.payload.vot === 'P0', `id_token vot P0, got ${jwtFlow.idt.payload.vot}`);
      log(`  id_token: sub=${jwtFlow.idt.payload.sub} vot=${jwtFlow.idt.payload.vot}`);
    }
    const badAud = await tokenRequest(discovery.token_endpoint, {
      grant_type: 'authorization_code', code: 'x', redirect_uri: redirectUri, code_verifier: 'x'.repeat(43), client_id: 'rp-jwt',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(rpKey.privateKey, rpKid, 'rp-jwt', `${issuer}/`),
    });
    assert(badAud.status === 401 && badAud.json.error === 'invalid_client', 'issuer with trailing slash is rejected as aud');
    log(`client assertion aud="${issuer}/" -> ${badAud.status} ${badAud.json.error}`);

    // 4. client_credentials -> JWT access token for the resource server
    for (const withResource of [true, false]) {
      const cc = await tokenRequest(discovery.token_endpoint, {
        grant_type: 'client_credentials', scope: 'groups:read', ...(withResource ? { resource: audience } : {}),
      }, ['api-client', 'api-secret']);
      assert(cc.status === 200, `client_credentials 200, got ${cc.status} ${JSON.stringify(cc.json)}`);
      const at = decodeJwt(cc.json.access_token);
      assert(at.header.typ === 'at+jwt', `typ at+jwt, got ${at.header.typ}`);
      assert(at.header.alg === 'ES256', 'access token alg ES256');
      assert(at.payload.aud === audience, 'access token aud');
      assert(at.payload.iss === issuer, 'access token iss');
      assert(at.payload.sub === 'api-client', 'access token sub');
      assert(at.payload.scope === 'groups:read', 'access token scope');
      log(`client_credentials (resource ${withResource ? 'sent' : 'defaulted'}): header=${JSON.stringify(at.header)} aud=${at.payload.aud} sub=${at.payload.sub} scope=${at.payload.scope}`);
    }

    // 5. RP-initiated logout with the browser-ish cookie jar
    const endSession = new URL(discovery.end_session_endpoint);
    endSession.search = new URLSearchParams({ id_token_hint: basicFlow.tok.json.id_token, post_logout_redirect_uri: postLogout, state: 'bye' });
    const es = await request(jar, endSession.href);
    const html = await es.text();
    assert(es.status === 200 && /text\/html/.test(es.headers.get('content-type')), `end_session GET 200 html, got ${es.status}`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    assert(xsrf && action, 'logout confirmation form with xsrf');
    log(`end_session GET -> ${es.status} text/html confirmation form (POST ${new URL(action).pathname}, hidden xsrf)`);
    const confirm = await request(jar, action, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    const bye = confirm.headers.get('location');
    assert(confirm.status === 303 && bye === `${postLogout}?state=bye`, `confirm redirects to post_logout_redirect_uri, got ${confirm.status} ${bye}`);
    log(`end_session confirm POST -> ${confirm.status} ${bye}`);
  } finally {
    clearTimeout(killTimer);
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    log(`provider stopped (exit ${code}${signal ? `, signal ${signal}` : ''})`);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => { log('selfcheck ok'); process.exit(0); },
  (err) => { console.error(`selfcheck FAILED: ${err.stack || err}`); process.exit(1); },
);
