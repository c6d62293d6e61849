"""A local certificate authority, so clients that insist on TLS can reach the emulator.

google-genai dials the Live API over `wss://` whenever an API key is set, whatever the base URL's scheme
(google/genai/_api_client.py, `_websocket_base_url` replaces the scheme with wss). So `client.aio.live.connect`
needs the emulator to speak TLS. `serve --tls` (and the plugin's `gemini_mock_tls` fixture) serve HTTPS and
WSS with a server certificate for localhost, 127.0.0.1 and ::1, signed by a CA made on this machine.

google-genai trusts the CA without any change to the user's code when SSL_CERT_FILE names a file holding
it: the SDK builds its HTTP and WebSocket SSL contexts from SSL_CERT_FILE, else certifi (_api_client.py,
`_ensure_websocket_ssl_ctx` and the httpx client set-up). `bundle.pem` is that file: the CA plus certifi's
public roots when certifi is installed, so other HTTPS calls in the same process keep working.

The keys are random (they are secrets, not emulated state) and stay in the given directory.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825
HOSTS = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path        # the CA certificate (PEM): what a client trusts
    cert: Path      # the server's certificate chain (PEM)
    key: Path       # the server's private key (PEM)
    bundle: Path    # the CA plus certifi's roots: a value for SSL_CERT_FILE


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gemini-mockserver local CA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure(directory: str | Path) -> TlsFiles:
    """The CA and server certificate in `directory`, made there unless all the files already are."""
    directory = Path(directory)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem",
                     directory / "bundle.pem")
    if all(path.exists() for path in (files.ca, files.cert, files.key, files.bundle)):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    # Certificates are dated by the real clock: TLS peers check them against real time, whatever the
    # emulator's clock says.
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    until = now + dt.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("gemini-mockserver local CA"))
          .issuer_name(_name("gemini-mockserver local CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(host) for host in HOSTS] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    files.key.write_bytes(_pem(key))
    files.key.chmod(0o600)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    files.ca.write_bytes(ca_pem)
    files.bundle.write_bytes(ca_pem + _public_roots())
    return files


def _public_roots() -> bytes:
    try:
        import certifi
    except ImportError:
        return b""
    return b"\n" + Path(certifi.where()).read_bytes()
