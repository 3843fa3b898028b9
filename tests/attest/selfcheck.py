"""selfcheck.py — round-trips the two SD-JWT VC implementations with themselves and each other.

Usage: VENV/bin/python selfcheck.py      (selfcheck.sh sets up node_modules and the venv first)

Issuers: issue.mjs (@sd-jwt/sd-jwt-vc), issue.py (sd-jwt), and "ours": a presentation built
here by hand in the format the Rust side emits (compact JSON, header alg/typ/kid, nbf, status,
sorted _sd with decoys, KB-JWT). Each is checked by verify.mjs and verify.py: the valid case,
then wrong aud, wrong nonce, expired, not-yet-valid, wrong issuer key, tampered payload, tampered
disclosure, unreferenced disclosure, KB-JWT missing, KB-JWT dropped without require_kb, no holder,
and (ours only) a wrong header typ. Fresh keys every run. Prints one line per check and
"N passed, N failed"; exits 1 on any failure.
"""

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
ISSUERS = {"node": ["node", os.path.join(HERE, "issue.mjs")], "python": [PY, os.path.join(HERE, "issue.py")]}
VERIFIERS = {"node": ["node", os.path.join(HERE, "verify.mjs")], "python": [PY, os.path.join(HERE, "verify.py")]}

IAT, EXP, KB_IAT, NOW = 1_700_000_000, 1_700_086_400, 1_700_000_100, 1_700_000_200
AUD, NONCE = "https://verifier.example/cb", "nonce-" + secrets.token_hex(8)
CLAIMS = {"given_name": "Ada", "age": 36, "address": {"locality": "Zürich", "country": "CH"}, "roles": ["a", "b"]}
REVEAL = ["given_name", "address"]

passed = failed = 0


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64u_json_decode(s):
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def new_key(kid=None):
    k = json.loads(JWK.generate(kty="EC", crv="P-256").export(private_key=True))
    if kid:
        k["kid"] = kid
    return k


def public(k):
    return {n: k[n] for n in ("kty", "crv", "x", "y")}


def run(cmd, payload):
    p = subprocess.run(cmd, input=json.dumps(payload), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def es256_sign(key, header, payload) -> str:
    jws = JWS(compact(payload).encode("utf-8"))
    jws.add_signature(JWK(**key), alg="ES256", protected=compact(header))
    return jws.serialize(compact=True)


def ours(issuer, holder, typ="dc+sd-jwt"):
    """A presentation shaped like the Rust side's output (see README "Our format")."""
    disclosures, digests = {}, []
    for name, value in CLAIMS.items():
        d = b64u(compact([b64u(secrets.token_bytes(16)), name, value]).encode("utf-8"))
        disclosures[name] = d
        digests.append(b64u(hashlib.sha256(d.encode("ascii")).digest()))
    digests += [b64u(hashlib.sha256(secrets.token_bytes(32)).digest()) for _ in range(3)]  # decoys
    payload = {
        "iss": "https://issuer.example", "vct": "https://issuer.example/vct/member", "iat": IAT, "nbf": IAT,
        "exp": EXP, "status": {"status_list": {"idx": 7, "uri": "https://issuer.example/status/1"}},
        "_sd": sorted(digests), "_sd_alg": "sha-256",
    }
    if holder:
        payload["cnf"] = {"jwk": public(holder)}
    jwt = es256_sign(issuer, {"alg": "ES256", "typ": typ, "kid": issuer["kid"]}, payload)
    sd = jwt + "~" + "".join(disclosures[n] + "~" for n in REVEAL)
    if not holder:
        return sd
    sd_hash = b64u(hashlib.sha256(sd.encode("ascii")).digest())
    kb = es256_sign(holder, {"alg": "ES256", "typ": "kb+jwt"}, {"iat": KB_IAT, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash})
    return sd + kb


def issue(which, issuer, holder):
    if which == "ours":
        return ours(issuer, holder)
    return run(ISSUERS[which], {
        "issuer_jwk": issuer, "holder_jwk": holder, "iss": "https://issuer.example",
        "vct": "https://issuer.example/vct/member", "iat": IAT, "exp": EXP, "claims": CLAIMS,
        "reveal": REVEAL, "aud": AUD, "nonce": NONCE, "kb_iat": KB_IAT,
    })["presentation"]


def verify(which, presentation, issuer_pub, **over):
    req = {"presentation": presentation, "issuer_jwk": issuer_pub, "aud": AUD, "nonce": NONCE, "now": NOW, "require_kb": True}
    req.update(over)
    return run(VERIFIERS[which], req)


def tamper_payload(p):
    jwt, rest = p.split("~", 1)
    h, pl, s = jwt.split(".")
    body = b64u_json_decode(pl)
    body["vct"] = body["vct"] + "x"
    return f"{h}.{b64u(json.dumps(body).encode())}.{s}~{rest}"


def tamper_disclosure(p):
    parts = p.split("~")
    arr = b64u_json_decode(parts[1])
    arr[-1] = "tampered"
    parts[1] = b64u(compact(arr).encode("utf-8"))
    return "~".join(parts)


def drop_kb(p):
    return p[: p.rindex("~") + 1]


def main():
    issuer, holder, other = new_key("issuer-key-1"), new_key(), new_key("other")
    ipub = public(issuer)
    for iname in ("node", "python", "ours"):
        pres = issue(iname, issuer, holder)
        pres_noholder = issue(iname, issuer, None)
        extra = issue("python", issuer, holder).split("~")[1]  # a foreign, unreferenced disclosure
        for vname in VERIFIERS:
            tag = f"{iname}->{vname}"
            r = verify(vname, pres, ipub)
            c = r.get("claims", {})
            check(f"{tag} valid with KB", r.get("valid") is True and c.get("given_name") == "Ada"
                  and c.get("address", {}).get("locality") == "Zürich" and "age" not in c and "roles" not in c
                  and c.get("cnf", {}).get("jwk", {}).get("x") == holder["x"] and "_sd" not in c
                  and "_sd" not in c.get("address", {}), r)
            bad = {
                "wrong aud": verify(vname, pres, ipub, aud="https://evil.example"),
                "wrong nonce": verify(vname, pres, ipub, nonce="other-nonce"),
                "expired": verify(vname, pres, ipub, now=EXP + 1),
                "not yet valid": verify(vname, pres, ipub, now=IAT - 10),
                "wrong issuer key": verify(vname, pres, public(other)),
                "tampered payload": verify(vname, tamper_payload(pres), ipub),
                "tampered disclosure": verify(vname, tamper_disclosure(pres), ipub),
                "unreferenced disclosure": verify(vname, drop_kb(pres) + extra + "~", ipub, require_kb=False),
                "KB-JWT missing": verify(vname, drop_kb(pres), ipub),
            }
            for name, r in bad.items():
                check(f"{tag} rejects {name}", r.get("valid") is False and r.get("error"), r)
            r = verify(vname, drop_kb(pres), ipub, require_kb=False)
            check(f"{tag} valid without KB when not required", r.get("valid") is True, r)
            r = verify(vname, pres_noholder, ipub, require_kb=False)
            check(f"{tag} valid, no holder", r.get("valid") is True and "cnf" not in r.get("claims", {}), r)
            r = verify(vname, pres_noholder, ipub)
            check(f"{tag} rejects KB required, no holder", r.get("valid") is False, r)
            if iname == "ours":
                r = verify(vname, ours(issuer, holder, typ="example+sd-jwt"), ipub)
                check(f"{tag} rejects typ example+sd-jwt", r.get("valid") is False, r)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
