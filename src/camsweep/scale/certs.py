"""A private certificate authority for one camsweep cluster, and its certificates.

Dask's TLS is mutual: every scheduler, worker and client connection presents a
certificate, and both ends check it against the cluster CA. So the CA is the list of who
may join: an agent with a certificate from it can run scans; anything else is refused at
the TLS handshake. `camsweep agent certs --out DIR --agents site-a,site-b` writes:

    ca.pem, ca-key.pem          the CA (keep ca-key.pem offline; it issues new agents)
    scheduler.pem/-key.pem      for `camsweep scheduler` / `dask scheduler`
    client.pem/-key.pem         for the central `camsweep scan --cluster` / `identify`
    agent-NAME.pem/-key.pem     one per agent, copied to that site only

Run again with the same DIR to add agents: the existing CA signs them. Keys are ECDSA
P-256 and written owner-read-only. Dask does not check host names (clusters are
addressed by IP), so certificates name roles, not hosts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from camsweep.errors import ConfigError

CA_DAYS = 3650
LEAF_DAYS = 825  # the longest validity browsers accepted for leaf certificates; renew yearly
ORGANISATION = "camsweep cluster"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    name: str
    cert: Path
    key: Path


def agent_names(spec: str) -> list[str]:
    """`3` -> agent-1..agent-3; `site-a,site-b` -> those names (letters, digits, . _ -)."""
    text = spec.strip()
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= 1000:
            raise ConfigError(f"--agents {text}: give between 1 and 1000 agents")
        return [f"agent-{i}" for i in range(1, count + 1)]
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not _NAME.match(n)]
    if not names or bad:
        raise ConfigError(f"--agents {spec!r}: give a number or comma-separated names of "
                          "letters, digits, '.', '_' or '-' (bad: " + ", ".join(bad) + ")")
    if len(set(names)) != len(names):
        raise ConfigError(f"--agents {spec!r}: a name is repeated")
    return [n if n.startswith("agent-") else f"agent-{n}" for n in names]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(path: Path, key: PrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _new_ca(directory: Path, now: datetime) -> tuple[x509.Certificate, PrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name("camsweep cluster CA")
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(directory / "ca-key.pem", key)
    _write_cert(directory / "ca.pem", cert)
    return cert, key


def _load_ca(directory: Path) -> tuple[x509.Certificate, PrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(),
                                                 password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the CA in {directory} (ca.pem, ca-key.pem): {exc}") \
            from exc
    if not isinstance(key, PrivateKey):
        raise ConfigError(f"{directory / 'ca-key.pem'} is not an EC key made by camsweep")
    return cert, key


def issue(directory: Path, name: str, ca: x509.Certificate, ca_key: PrivateKey,
          now: datetime, days: int = LEAF_DAYS) -> Issued:
    """A certificate for `name`, usable both to listen and to connect (Dask workers and
    schedulers do both)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + timedelta(days=days), ca.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    issued = Issued(name, directory / f"{name}.pem", directory / f"{name}-key.pem")
    _write_key(issued.key, key)
    _write_cert(issued.cert, cert)
    return issued


def make_certificates(directory: Path, agents: Sequence[str], *, force: bool = False,
                      now: datetime | None = None) -> list[Issued]:
    """The CA (made once, then reused), scheduler and client certificates (made when
    missing), and one certificate per agent name. An existing agent certificate is kept
    unless `force`: re-running must not silently lock a deployed agent out."""
    moment = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    has_ca = (directory / "ca.pem").is_file() and (directory / "ca-key.pem").is_file()
    ca, ca_key = _load_ca(directory) if has_ca else _new_ca(directory, moment)
    clash = [n for n in agents if (directory / f"{n}.pem").exists()]
    if clash and not force:
        raise ConfigError(f"{directory} already has certificates for {', '.join(clash)}; "
                          "use --force to issue new ones (old ones stay valid until they "
                          "expire: to lock an agent out, make a new CA in a new directory)")
    made: list[Issued] = []
    for role in ("scheduler", "client"):
        if not (directory / f"{role}.pem").is_file() or not has_ca:
            made.append(issue(directory, role, ca, ca_key, moment))
    made.extend(issue(directory, name, ca, ca_key, moment) for name in agents)
    return made
