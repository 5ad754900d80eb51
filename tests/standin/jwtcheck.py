"""jwtcheck - verify a client assertion (certificate credential) as Entra does.

SYNOPSIS
    why = check(state, app, jwt, aud)
        None when the assertion is good, else the text of the AADSTS700027
        description saying what is wrong.

Checked: three base64url parts; header typ JWT (when given), alg PS256 or
RS256, x5t#S256 (preferred) or x5t naming a certificate registered on the
app; the signature with that certificate's public key (PSS salt = digest
length, as RFC 7518 says); claims aud = the token endpoint URL the client
posted to, iss = sub = client id, exp in the future and nbf in the past
(within the scenario's jwt_clock_skew, default 300 s like Entra), jti
present and never seen before for this app.
"""
import base64
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


def _unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _parse(jwt):
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("JWT is not three base64url parts")
    head = json.loads(_unb64(parts[0]))
    claims = json.loads(_unb64(parts[1]))
    sig = _unb64(parts[2])
    if not isinstance(head, dict) or not isinstance(claims, dict):
        raise ValueError("JWT header or payload is not a JSON object")
    return head, claims, sig, (parts[0] + "." + parts[1]).encode()


def _verify(cert, alg, sig, signed):
    pub = cert.public_key()
    if alg == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        pad = padding.PKCS1v15()
    pub.verify(sig, signed, pad, hashes.SHA256())


def _signature(state, app, head, sig, signed):
    alg = head.get("alg")
    if alg not in ("PS256", "RS256"):
        return "The client assertion uses an unsupported algorithm '%s'." % alg
    if head.get("typ", "JWT").upper() != "JWT":
        return "The client assertion type is not JWT."
    x5t256, x5t = head.get("x5t#S256"), head.get("x5t")
    if not x5t256 and not x5t:
        return "The client assertion header has neither x5t#S256 nor x5t."
    cert = state.scenario.cert_for(app, x5t, x5t256)
    if cert is None:
        return ("The certificate with identifier used to sign the client assertion is "
                "not registered on application. [Reason - The key was not found., "
                "Thumbprint of key used by client: '%s']" % (x5t256 or x5t))
    try:
        _verify(cert, alg, sig, signed)
    except (InvalidSignature, ValueError, TypeError):
        return "Client assertion failed signature validation."
    return None


def _claims(state, app, c, aud):
    skew = float(state.scenario.data["token"].get("jwt_clock_skew", 300))
    now = time.time()
    cid = app["client_id"].lower()
    if c.get("aud") != aud:
        return "The audience claim value is invalid '%s'. The audience must be '%s'." % (
            c.get("aud"), aud)
    if str(c.get("iss", "")).lower() != cid or str(c.get("sub", "")).lower() != cid:
        return "The issuer and subject of the client assertion must be the client id."
    for k in ("exp", "nbf"):
        if not isinstance(c.get(k), (int, float)):
            return "The client assertion has no valid '%s' claim." % k
    if c["exp"] < now - skew:
        return "Client assertion is not within its valid time range (expired)."
    if c["nbf"] > now + skew:
        return "Client assertion is not within its valid time range (not yet valid)."
    if not c.get("jti"):
        return "The client assertion has no 'jti' claim."
    if state.jti_seen(cid, c["jti"], c["exp"]):
        return "The jti '%s' of the client assertion was already used." % c["jti"]
    return None


def check(state, app, jwt, aud):
    """check - None if the assertion is valid for app, else the reason."""
    try:
        head, claims, sig, signed = _parse(jwt)
    except ValueError as e:
        return "The client assertion is malformed: %s." % str(e).rstrip(".")
    return _signature(state, app, head, sig, signed) or _claims(state, app, claims, aud)
