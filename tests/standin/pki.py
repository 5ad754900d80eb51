"""pki - the per-run certificate authority of the stand-ins.

SYNOPSIS
    make_pki(dir)  -> dict of paths
        Creates a fresh CA (ca.pem), a server certificate valid for
        "localhost" and 127.0.0.1 (server.pem, server.key) and one for a
        wrong host name only (wrongname.pem, wrongname.key) in dir.
    make_client_cert(dir, name, days=365) -> (cert_path, key_path, pem)
        A self-signed RSA-2048 certificate + 0600 private key, as an
        administrator uploads to an app registration (certificate
        credential), valid for days (a float: 19.5 days leave a test
        12 hours before the whole days left change). Returns the PEM
        too, for the scenario.
    thumbprints(pem) -> (x5t, x5t_s256, certificate)
        base64url SHA-1 and SHA-256 of the certificate's DER.

ECDSA P-256 for the TLS side (fast to generate and to handshake); RSA for
client certificates because Entra only takes RSA keys for assertions.
The certificates carry what strict verification (OpenSSL's X509_STRICT,
on by default in Python 3.13's ssl) demands: Subject and Authority Key
Identifiers, a critical basicConstraints and keyUsage on the CA, keyUsage
and a SAN on the leaves.
"""
import base64
import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _validity(builder, days=30):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (builder.not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=days)))


def _write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _leaf(ca_key, ca_cert, names, ips, days=30):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in names] + \
           [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    b = (x509.CertificateBuilder().subject_name(_name(names[0]))
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .add_extension(x509.SubjectAlternativeName(sans), critical=False)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
         .add_extension(x509.KeyUsage(True, False, False, False, False,
                                      False, False, False, False), True)
         .add_extension(x509.ExtendedKeyUsage(
             [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(
             key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca_key.public_key()), critical=False))
    cert = _validity(b, days).sign(ca_key, hashes.SHA256())
    return key, cert


def make_pki(d, days=30):
    """make_pki - fresh CA and server certificates (valid days) in directory d."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(_name("exorelay stand-in CA"))
         .issuer_name(_name("exorelay stand-in CA"))
         .public_key(ca_key.public_key())
         .serial_number(x509.random_serial_number())
         .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
         .add_extension(x509.KeyUsage(False, False, False, False, False,
                                      True, True, False, False), True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(
             ca_key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca_key.public_key()), critical=False))
    ca_cert = _validity(b, days + 30).sign(ca_key, hashes.SHA256())
    paths = {"ca": os.path.join(d, "ca.pem")}
    _write(paths["ca"], ca_cert.public_bytes(serialization.Encoding.PEM))
    for tag, names, ips in (("server", ["localhost"], ["127.0.0.1", "::1"]),
                            ("wrongname", ["wrong.example.net"], [])):
        key, cert = _leaf(ca_key, ca_cert, names, ips, days)
        paths[tag] = os.path.join(d, tag + ".pem")
        paths[tag + "_key"] = os.path.join(d, tag + ".key")
        _write(paths[tag], cert.public_bytes(serialization.Encoding.PEM))
        _write(paths[tag + "_key"], _key_pem(key), 0o600)
    return paths


def make_client_cert(d, name, days=365):
    """make_client_cert - self-signed RSA certificate credential for an app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    b = (x509.CertificateBuilder().subject_name(_name("exorelay " + name))
         .issuer_name(_name("exorelay " + name)).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(
             key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             key.public_key()), critical=False))
    cert = _validity(b, days).sign(key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path = os.path.join(d, name + ".pem")
    key_path = os.path.join(d, name + ".key")
    _write(cert_path, pem)
    _write(key_path, _key_pem(key), 0o600)
    return cert_path, key_path, pem.decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprints(pem):
    """thumbprints - (x5t, x5t#S256) of a PEM certificate."""
    if isinstance(pem, str):
        pem = pem.encode()
    cert = x509.load_pem_x509_certificate(pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    return (b64url(hashlib.sha1(der).digest()),
            b64url(hashlib.sha256(der).digest()), cert)
