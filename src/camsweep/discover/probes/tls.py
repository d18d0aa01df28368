"""TLS: the subject and issuer of the certificate a device presents (never verified: cameras
ship self-signed factory certificates, and those name the maker, e.g. rapid7/recog
`xml/x509_subjects.xml` `CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,...`)."""

from __future__ import annotations

from cryptography import x509

from camsweep.discover.model import Answer
from camsweep.discover.probes.base import Transport


def describe_certificate(der: bytes) -> dict[str, str] | None:
    """Subject and issuer in RFC 4514 form, plus validity; None when not a certificate."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": f"{cert.serial_number:x}",
    }


async def probe_tls(t: Transport, ip: str, port: int) -> Answer | None:
    der = await t.peer_certificate(ip, port)
    if not der:
        return None
    fields = describe_certificate(der)
    return Answer("tls", ip, port=port, fields=fields) if fields else None
