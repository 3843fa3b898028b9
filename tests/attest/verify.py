"""verify.py — verify one SD-JWT VC presentation with sd-jwt 0.10.4 (IETF reference implementation).

Usage: VENV/bin/python verify.py < INPUT.json    (VENV made from requirements.txt)

stdin:  {"presentation": "<jwt>~<d>~...~[<kb-jwt>]", "issuer_jwk": {public EC P-256 JWK},
         "aud": "...", "nonce": "...", "now": <unix seconds>, "require_kb": true|false}
stdout: one line, {"valid": true, "claims": {...}} or {"valid": false, "error": "..."}; exit 0.
Exit 2 (message on stderr) only for bad input or a harness crash.

The library (SDJWTVerifier) checks the issuer signature (jwcrypto, alg from the header),
the disclosures (duplicate digests, duplicate claim names, _sd_alg == sha-256) and, when
given aud+nonce, the KB-JWT (ES256 signature with cnf.jwk, typ == kb+jwt, aud, nonce,
sd_hash). This script adds (errors starting "harness:"): issuer header typ == dc+sd-jwt and
alg == ES256, vct is a string, iat/nbf/exp against `now` (same rules as the JS library:
iat > now, nbf > now or exp < now is invalid), KB-JWT iat not after `now`, every disclosure is
referenced by a digest, no disclosure for _sd/.../iss/nbf/exp/cnf/vct/vct#integrity/status,
no duplicate disclosures. The library has no status list support: `status` is not checked.
"""

import base64
import hashlib
import json
import sys

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

RESERVED = {"_sd", "...", "iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}


class HarnessError(Exception):
    def __str__(self):
        return f"harness: {self.args[0]}"


def die(message):
    sys.stderr.write(f"verify.py: {message}\n")
    sys.exit(2)


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_json(s):
    return json.loads(b64u_decode(s).decode("utf-8"))


def sha256_b64u(s):
    return base64.urlsafe_b64encode(hashlib.sha256(s.encode("ascii")).digest()).decode("ascii").rstrip("=")


def public_jwk(jwk):
    # Only the members needed: jwcrypto refuses a key whose key_ops/use forbid "verify".
    if not isinstance(jwk, dict):
        raise ValueError("JWK is not an object")
    return JWK(**{k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk})


def collect_digests(value, out):
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and len(item) == 1 and isinstance(item.get("..."), str):
                out.add(item["..."])
            else:
                collect_digests(item, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "_sd" and isinstance(v, list):
                out.update(d for d in v if isinstance(d, str))
            else:
                collect_digests(v, out)


def harness_pre_checks(presentation):
    if "~" not in presentation:
        raise HarnessError('presentation has no "~" (not an SD-JWT)')
    parts = presentation.split("~")
    jwt, disclosures = parts[0], parts[1:-1]
    segs = jwt.split(".")
    if len(segs) != 3:
        raise HarnessError("issuer-signed JWT is not a compact JWS")
    header, payload = b64u_json(segs[0]), b64u_json(segs[1])
    if header.get("typ") != "dc+sd-jwt":
        raise HarnessError(f'issuer JWT header typ is {json.dumps(header.get("typ"))}, expected "dc+sd-jwt"')
    if header.get("alg") != "ES256":
        raise HarnessError(f'issuer JWT header alg is {json.dumps(header.get("alg"))}, expected "ES256"')
    if not isinstance(payload.get("vct"), str) or payload.get("vct") == "":
        raise HarnessError("vct is missing or not a string")
    digests = set()
    collect_digests(payload, digests)
    decoded, seen = [], set()
    for d in disclosures:
        if d == "":
            raise HarnessError("empty disclosure")
        h = sha256_b64u(d)
        if h in seen:
            raise HarnessError("duplicate disclosure")
        seen.add(h)
        decoded.append((h, b64u_json(d)))
    for _, value in decoded:
        collect_digests(value, digests)
    for h, value in decoded:
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise HarnessError("disclosure is not a 2- or 3-element array")
        if not isinstance(value[0], str):
            raise HarnessError("disclosure salt is not a string")
        if len(value) == 3:
            if not isinstance(value[1], str):
                raise HarnessError("disclosure claim name is not a string")
            if value[1] in RESERVED:
                raise HarnessError(f"claim {json.dumps(value[1])} must not be selectively disclosed")
        if h not in digests:
            raise HarnessError("disclosure is not referenced by any digest")


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def time_checks(payload, now):
    # Same rules as @sd-jwt/core Jwt.verify with skew 0.
    for name in ("iat", "nbf", "exp"):
        if name in payload and not is_num(payload[name]):
            raise HarnessError(f"{name} is not a number")
    if "iat" in payload and payload["iat"] > now:
        raise HarnessError("JWT is not yet valid (iat)")
    if "nbf" in payload and payload["nbf"] > now:
        raise HarnessError("JWT is not yet valid (nbf)")
    if "exp" in payload and payload["exp"] < now:
        raise HarnessError("JWT is expired")


def main():
    try:
        inp = json.loads(sys.stdin.read())
    except ValueError as e:
        die(f"stdin is not JSON: {e}")
    if not isinstance(inp, dict):
        die("stdin must be a JSON object")
    presentation = inp.get("presentation")
    issuer_jwk = inp.get("issuer_jwk")
    aud, nonce, now, require_kb = inp.get("aud"), inp.get("nonce"), inp.get("now"), inp.get("require_kb")
    if not isinstance(presentation, str):
        die('"presentation" must be a string')
    if not isinstance(issuer_jwk, dict):
        die('"issuer_jwk" must be an object')
    if not isinstance(now, int) or isinstance(now, bool):
        die('"now" must be an integer (unix seconds)')
    if not isinstance(require_kb, bool):
        die('"require_kb" must be a boolean')
    if require_kb and not (isinstance(aud, str) and aud and isinstance(nonce, str) and nonce):
        die('"aud" and "nonce" must be non-empty strings when require_kb is true')
    try:
        issuer_key = public_jwk(issuer_jwk)
    except Exception as e:  # noqa: BLE001
        die(f"issuer_jwk not usable: {e}")

    try:
        harness_pre_checks(presentation)
        verifier = SDJWTVerifier(
            presentation,
            lambda _iss, _header: issuer_key,
            aud if require_kb else None,
            nonce if require_kb else None,
        )
        # _sd_jwt_payload is the payload after the library verified the signature.
        time_checks(verifier._sd_jwt_payload, now)
        if require_kb:
            kb_payload = b64u_json(verifier._unverified_input_key_binding_jwt.split(".")[1])
            if not is_num(kb_payload.get("iat")) or kb_payload["iat"] > now:
                raise HarnessError("KB-JWT iat is missing or after now")
        claims = verifier.get_verified_payload()
        claims.pop("_sd", None)
        claims.pop("_sd_alg", None)
        out = {"valid": True, "claims": claims}
    except HarnessError as e:
        out = {"valid": False, "error": str(e)}
    except Exception as e:  # noqa: BLE001 — any library error means "not valid"
        out = {"valid": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
