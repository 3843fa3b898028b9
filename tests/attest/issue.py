"""issue.py — issue an SD-JWT VC and make a presentation with sd-jwt 0.10.4 (IETF reference implementation).

Usage: VENV/bin/python issue.py < INPUT.json    (VENV made from requirements.txt)

stdin:  {"issuer_jwk": {private EC P-256 JWK with d, and kid}, "holder_jwk": {private JWK} | null,
         "iss": "...", "vct": "...", "iat": N, "exp": N, "claims": {...}, "reveal": ["name", ...],
         "aud": "...", "nonce": "...", "kb_iat": N, "decoys": N (optional, default 2; 0 = none)}
stdout: {"presentation": "<jwt>~<d>~...~<kb-jwt>"}   (ends with "~" when holder_jwk is null)
Exit 2 (message on stderr) on bad input or a library error.

Header: {"alg": "ES256", "typ": "dc+sd-jwt", "kid": <issuer kid>} (the library's default typ is
"example+sd-jwt"; it is overridden through extra_header_parameters). Payload: _sd first (sorted),
then iss, vct, iat, exp, _sd_alg, cnf {jwk: holder public key} last. Every key of `claims` is
selectively disclosable at the top level. With decoys != 0 the library adds 2–5 random decoy
digests to EVERY object it builds, including object-valued claims (so those carry a nested
`_sd` array of decoys only). JSON is Python's json.dumps default: ", " / ": " separators,
non-ASCII escaped as \\uXXXX.
"""

import json
import sys

import sd_jwt.holder
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer


def die(message):
    sys.stderr.write(f"issue.py: {message}\n")
    sys.exit(2)


def ec_jwk(jwk, with_d):
    names = ("kty", "crv", "x", "y", "d") if with_d else ("kty", "crv", "x", "y")
    return JWK(**{k: jwk[k] for k in names if k in jwk})


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def main():
    try:
        inp = json.loads(sys.stdin.read())
    except ValueError as e:
        die(f"stdin is not JSON: {e}")
    issuer_jwk, holder_jwk = inp.get("issuer_jwk"), inp.get("holder_jwk")
    claims, reveal = inp.get("claims"), inp.get("reveal")
    decoys = inp.get("decoys", 2)
    if not isinstance(issuer_jwk, dict) or "d" not in issuer_jwk:
        die('"issuer_jwk" must be a private JWK (with d)')
    if holder_jwk is not None and (not isinstance(holder_jwk, dict) or "d" not in holder_jwk):
        die('"holder_jwk" must be a private JWK (with d) or null')
    if not isinstance(inp.get("iss"), str) or not isinstance(inp.get("vct"), str):
        die('"iss" and "vct" must be strings')
    if not is_int(inp.get("iat")) or not is_int(inp.get("exp")):
        die('"iat" and "exp" must be integers')
    if not isinstance(claims, dict) or not isinstance(reveal, list):
        die('"claims" must be an object and "reveal" an array')
    if holder_jwk is not None and not (
        isinstance(inp.get("aud"), str) and inp["aud"] and isinstance(inp.get("nonce"), str) and inp["nonce"]
        and is_int(inp.get("kb_iat"))
    ):
        die('"aud", "nonce" (non-empty strings) and "kb_iat" (integer) are required with a holder')

    user_claims = {"iss": inp["iss"], "vct": inp["vct"], "iat": inp["iat"], "exp": inp["exp"]}
    for name, value in claims.items():
        user_claims[SDObj(name)] = value

    header = {"typ": "dc+sd-jwt"}
    if "kid" in issuer_jwk:
        header["kid"] = issuer_jwk["kid"]
    holder_key = ec_jwk(holder_jwk, True) if holder_jwk is not None else None
    issuer = SDJWTIssuer(
        user_claims,
        ec_jwk(issuer_jwk, True),
        holder_key=holder_key,  # the library writes cnf = {"jwk": holder_key.export_public()}
        sign_alg="ES256",
        add_decoy_claims=bool(decoys),
        extra_header_parameters=header,
    )

    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    # SDJWTHolder always uses int(time()) as the KB-JWT iat: pin it to kb_iat.
    if holder_key is not None:
        kb_iat = inp["kb_iat"]
        sd_jwt.holder.time = lambda: kb_iat
    holder.create_presentation(
        {name: True for name in reveal},
        nonce=inp.get("nonce") if holder_key is not None else None,
        aud=inp.get("aud") if holder_key is not None else None,
        holder_key=holder_key,
        sign_alg="ES256",
    )
    sys.stdout.write(json.dumps({"presentation": holder.sd_jwt_presentation}) + "\n")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001
        die(f"{type(e).__name__}: {e}")
