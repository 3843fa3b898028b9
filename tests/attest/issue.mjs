// issue.mjs — issue an SD-JWT VC and make a presentation with @sd-jwt/sd-jwt-vc 0.19.0.
//
// Usage: node issue.mjs < INPUT.json        (after `npm ci` in this directory)
//
// stdin:  {"issuer_jwk": {private EC P-256 JWK with d, and kid}, "holder_jwk": {private JWK} | null,
//          "iss": "...", "vct": "...", "iat": N, "exp": N, "claims": {...}, "reveal": ["name", ...],
//          "aud": "...", "nonce": "...", "kb_iat": N, "decoys": N (optional, default 2)}
// stdout: {"presentation": "<jwt>~<d>~...~<kb-jwt>"}   (ends with "~" when holder_jwk is null)
// Exit 2 (message on stderr) on bad input or a library error.
//
// Header: {"typ":"dc+sd-jwt","kid":<issuer kid>,"alg":"ES256"} (the library puts typ first,
// then options.header, then alg). Payload: iss, vct, iat, exp, cnf {jwk: holder public key}
// (when holder given), every key of `claims` selectively disclosable (top level), `decoys`
// decoy digests, `_sd` sorted, `_sd_alg` "sha-256" last.

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { readFileSync } from 'node:fs';

function die(message) {
  process.stderr.write(`issue.mjs: ${message}\n`);
  process.exit(2);
}

const pick = (jwk, withD) => {
  if (!jwk || typeof jwk !== 'object') throw new Error('JWK is not an object');
  const { kty, crv, x, y, d } = jwk;
  return withD ? { kty, crv, x, y, d } : { kty, crv, x, y };
};

async function main() {
  let input;
  try {
    input = JSON.parse(readFileSync(0, 'utf8'));
  } catch (e) {
    die(`stdin is not JSON: ${e.message}`);
  }
  const { issuer_jwk, holder_jwk, iss, vct, iat, exp, claims, reveal, aud, nonce, kb_iat } = input ?? {};
  const decoys = input?.decoys ?? 2;
  if (!issuer_jwk?.d) die('"issuer_jwk" must be a private JWK (with d)');
  if (holder_jwk != null && !holder_jwk.d) die('"holder_jwk" must be a private JWK (with d) or null');
  if (typeof iss !== 'string' || typeof vct !== 'string') die('"iss" and "vct" must be strings');
  if (!Number.isInteger(iat) || !Number.isInteger(exp)) die('"iat" and "exp" must be integers');
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) die('"claims" must be an object');
  if (!Array.isArray(reveal)) die('"reveal" must be an array of claim names');
  if (holder_jwk != null && (typeof aud !== 'string' || typeof nonce !== 'string' || !Number.isInteger(kb_iat))) {
    die('"aud", "nonce" (strings) and "kb_iat" (integer) are required with a holder');
  }

  const config = {
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: await ES256.getSigner(pick(issuer_jwk, true)),
    signAlg: 'ES256',
  };
  if (holder_jwk != null) {
    config.kbSigner = await ES256.getSigner(pick(holder_jwk, true));
    config.kbSignAlg = 'ES256';
  }
  const sdjwt = new SDJwtVcInstance(config);

  const payload = { iss, vct, iat, exp };
  if (holder_jwk != null) payload.cnf = { jwk: pick(holder_jwk, false) };
  Object.assign(payload, claims);
  const frame = { _sd: Object.keys(claims), _sd_decoy: decoys };
  const header = issuer_jwk.kid !== undefined ? { kid: issuer_jwk.kid } : {};
  const issued = await sdjwt.issue(payload, frame, { header });

  const presentationFrame = Object.fromEntries(reveal.map((name) => [name, true]));
  const options = holder_jwk != null ? { kb: { payload: { iat: kb_iat, aud, nonce } } } : undefined;
  const presentation = await sdjwt.present(issued, presentationFrame, options);
  process.stdout.write(`${JSON.stringify({ presentation })}\n`);
}

main().catch((e) => die(`${e?.stack ?? e}`));
