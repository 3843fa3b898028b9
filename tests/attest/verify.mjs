// verify.mjs — verify one SD-JWT VC presentation with @sd-jwt/sd-jwt-vc 0.19.0.
//
// Usage: node verify.mjs < INPUT.json        (after `npm ci` in this directory)
//
// stdin:  {"presentation": "<jwt>~<d>~...~[<kb-jwt>]", "issuer_jwk": {public EC P-256 JWK},
//          "aud": "...", "nonce": "...", "now": <unix seconds>, "require_kb": true|false,
//          "status_list_jwts": {"<uri>": "<status list JWT>"}   (optional)}
// stdout: one line, {"valid": true, "claims": {...}} or {"valid": false, "error": "..."}; exit 0.
// Exit 2 (message on stderr) only for bad input or a harness crash.
//
// The library does the signature, disclosure, iat/nbf/exp (against `now`, no skew) and
// KB-JWT (typ kb+jwt, signature with cnf.jwk, nonce, sd_hash) checks. This script adds
// (errors starting "harness:"): issuer header typ == dc+sd-jwt and alg == ES256, vct is a
// string, KB-JWT aud == expected aud, KB-JWT iat not after `now`, every disclosure is
// referenced by a digest, no disclosure for _sd/.../iss/nbf/exp/cnf/vct/vct#integrity/status,
// no duplicate disclosures. Status: if the payload has status.status_list and its uri is
// in status_list_jwts, the library checks that list (signed by issuer_jwk, value must be 0);
// otherwise the status check is skipped (never fetched over the network).

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const RESERVED = new Set(['_sd', '...', 'iss', 'nbf', 'exp', 'cnf', 'vct', 'vct#integrity', 'status']);

function die(message) {
  process.stderr.write(`verify.mjs: ${message}\n`);
  process.exit(2);
}

// Keep only the JWK members WebCrypto needs: `key_ops`, `ext`, `use`, `alg` or a `d`
// on a public key make subtle.importKey refuse the key.
function publicJwk(jwk) {
  if (!jwk || typeof jwk !== 'object') throw new Error('JWK is not an object');
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y };
}

const b64uJson = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
const sha256b64u = (s) => createHash('sha256').update(s, 'ascii').digest('base64url');

// Collect every digest under `_sd` arrays and `{"...": digest}` array entries.
function collectDigests(value, out) {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length === 1 && typeof item['...'] === 'string') {
        out.add(item['...']);
      } else {
        collectDigests(item, out);
      }
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '_sd' && Array.isArray(v)) v.forEach((d) => out.add(d));
      else collectDigests(v, out);
    }
  }
}

// Checks the library leaves out; throws Error('harness: ...').
function harnessPreChecks(presentation) {
  const fail = (m) => { throw new Error(`harness: ${m}`); };
  if (!presentation.includes('~')) fail('presentation has no "~" (not an SD-JWT)');
  const parts = presentation.split('~');
  const jwt = parts[0];
  const disclosures = parts.slice(1, -1);
  const segs = jwt.split('.');
  if (segs.length !== 3) fail('issuer-signed JWT is not a compact JWS');
  const header = b64uJson(segs[0]);
  const payload = b64uJson(segs[1]);
  if (header.typ !== 'dc+sd-jwt') fail(`issuer JWT header typ is ${JSON.stringify(header.typ)}, expected "dc+sd-jwt"`);
  if (header.alg !== 'ES256') fail(`issuer JWT header alg is ${JSON.stringify(header.alg)}, expected "ES256"`);
  if (typeof payload.vct !== 'string' || payload.vct === '') fail('vct is missing or not a string');
  const digests = new Set();
  collectDigests(payload, digests);
  const decoded = [];
  const seen = new Set();
  for (const d of disclosures) {
    if (d === '') fail('empty disclosure');
    const h = sha256b64u(d);
    if (seen.has(h)) fail('duplicate disclosure');
    seen.add(h);
    decoded.push({ d, h, value: b64uJson(d) });
  }
  for (const { value } of decoded) collectDigests(value, digests);
  for (const { h, value } of decoded) {
    if (!Array.isArray(value) || (value.length !== 2 && value.length !== 3)) fail('disclosure is not a 2- or 3-element array');
    if (typeof value[0] !== 'string') fail('disclosure salt is not a string');
    if (value.length === 3) {
      if (typeof value[1] !== 'string') fail('disclosure claim name is not a string');
      if (RESERVED.has(value[1])) fail(`claim ${JSON.stringify(value[1])} must not be selectively disclosed`);
    }
    if (!digests.has(h)) fail('disclosure is not referenced by any digest');
  }
  return { payload };
}

async function main() {
  let input;
  try {
    input = JSON.parse(readFileSync(0, 'utf8'));
  } catch (e) {
    die(`stdin is not JSON: ${e.message}`);
  }
  const { presentation, issuer_jwk, aud, nonce, now, require_kb } = input ?? {};
  const statusLists = input?.status_list_jwts ?? {};
  if (typeof presentation !== 'string') die('"presentation" must be a string');
  if (!issuer_jwk || typeof issuer_jwk !== 'object') die('"issuer_jwk" must be an object');
  if (!Number.isInteger(now)) die('"now" must be an integer (unix seconds)');
  if (typeof require_kb !== 'boolean') die('"require_kb" must be a boolean');
  if (require_kb && (typeof aud !== 'string' || typeof nonce !== 'string' || !aud || !nonce)) {
    die('"aud" and "nonce" must be non-empty strings when require_kb is true');
  }

  let verifier;
  try {
    verifier = await ES256.getVerifier(publicJwk(issuer_jwk));
  } catch (e) {
    die(`issuer_jwk not usable: ${e.message}`);
  }

  // Status: check only lists handed in; never fetch.
  class Vc extends SDJwtVcInstance {
    async verifyStatus(result, options) {
      const uri = result?.payload?.status?.status_list?.uri;
      if (uri !== undefined && Object.hasOwn(statusLists, uri)) {
        return super.verifyStatus(result, options);
      }
    }
  }
  const sdjwt = new Vc({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier,
    kbVerifier: async (data, sig, payload) => {
      const jwk = payload?.cnf?.jwk;
      if (!jwk) throw new Error('no cnf.jwk in the credential');
      const kbv = await ES256.getVerifier(publicJwk(jwk));
      return kbv(data, sig);
    },
    statusListFetcher: async (uri) => {
      if (!Object.hasOwn(statusLists, uri)) throw new Error(`status list ${uri} not supplied`);
      return statusLists[uri];
    },
  });

  try {
    harnessPreChecks(presentation);
    const options = { currentDate: now };
    if (require_kb) options.keyBindingNonce = nonce;
    const result = await sdjwt.verify(presentation, options);
    if (require_kb) {
      if (!result.kb) throw new Error('harness: key binding was not verified');
      if (result.kb.payload.aud !== aud) {
        throw new Error(`harness: KB-JWT aud ${JSON.stringify(result.kb.payload.aud)} does not match expected ${JSON.stringify(aud)}`);
      }
      if (typeof result.kb.payload.iat !== 'number' || result.kb.payload.iat > now) {
        throw new Error('harness: KB-JWT iat is missing or after now');
      }
    }
    const claims = { ...result.payload };
    delete claims._sd;
    delete claims._sd_alg;
    process.stdout.write(`${JSON.stringify({ valid: true, claims })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ valid: false, error: String(e?.message ?? e) })}\n`);
  }
}

main().catch((e) => die(`crash: ${e?.stack ?? e}`));
