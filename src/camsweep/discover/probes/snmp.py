"""SNMP: sysDescr and sysObjectID, after the host has shown it is an SNMP agent.

A community string or a USM password is a credential, so none is sent until the host has
answered an SNMPv3 engine-discovery request, which carries no credential at all (RFC 3414
section 4: an empty engine ID and user name, answered by a Report with the agent's engine ID).
That Report alone is evidence: an engine ID in the RFC 3411 format begins with the
enterprise number (PEN) of the agent's maker, e.g. 39165 Hikvision, 37496 Dahua.

SNMPv2c GET is a dozen lines of BER, written here (and shared with the testbed agent);
SNMPv3 with authentication and privacy goes through pysnmp, whose USM is well tested.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from camsweep.discover.credentials import SnmpCredentials
from camsweep.discover.model import Answer
from camsweep.discover.probes.base import Transport

SNMP_PORT = 161
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
USM_UNKNOWN_ENGINE_IDS = "1.3.6.1.6.3.15.1.1.4.0"

INTEGER, OCTETS, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
IPADDRESS, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x46
GET, GET_NEXT, RESPONSE, REPORT = 0xA0, 0xA1, 0xA2, 0xA8
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB = 0x80, 0x81, 0x82

_request_ids = itertools.count(0x1A2B)


class BerError(ValueError):
    """Bytes that are not the BER the SNMP message needs."""


# --- BER -------------------------------------------------------------------------------------

def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def integer(n: int, tag: int = INTEGER) -> bytes:
    size = max(1, (n.bit_length() + 8) // 8)
    return tlv(tag, n.to_bytes(size, "big", signed=True))


def unsigned(n: int, tag: int) -> bytes:
    size = max(1, (n.bit_length() + 8) // 8)
    return tlv(tag, n.to_bytes(size, "big", signed=False))


def octets(value: bytes | str) -> bytes:
    return tlv(OCTETS, value.encode() if isinstance(value, str) else value)


def _base128(n: int) -> list[int]:
    chunk = [n & 0x7F]
    n >>= 7
    while n:
        chunk.append(0x80 | (n & 0x7F))
        n >>= 7
    return chunk[::-1]


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.strip(".").split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39):
        raise BerError(f"OID {dotted!r} is not a valid object identifier")
    body = bytearray(_base128(40 * arcs[0] + arcs[1]))
    for arc in arcs[2:]:
        body.extend(_base128(arc))
    return tlv(OID, bytes(body))


def sequence(*items: bytes, tag: int = SEQUENCE) -> bytes:
    return tlv(tag, b"".join(items))


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, position after it)."""
    if pos + 2 > len(data):
        raise BerError("truncated")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise BerError("bad length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(data):
        raise BerError("truncated value")
    return tag, data[pos:pos + length], pos + length


def children(value: bytes) -> list[tuple[int, bytes]]:
    out = []
    pos = 0
    while pos < len(value):
        tag, inner, pos = read_tlv(value, pos)
        out.append((tag, inner))
    return out


def decode_oid(value: bytes) -> str:
    if not value:
        raise BerError("empty OID")
    subids: list[int] = []
    n = 0
    for byte in value:
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            subids.append(n)
            n = 0
    first = subids[0]
    arcs = [*divmod(first, 40)] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in [*arcs, *subids[1:]])


def decode_value(tag: int, value: bytes) -> Any:
    if tag == INTEGER:
        return int.from_bytes(value, "big", signed=True)
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return int.from_bytes(value, "big", signed=False)
    if tag == OCTETS:
        return value.decode("utf-8", "replace")
    if tag == OID:
        return decode_oid(value)
    if tag == IPADDRESS and len(value) == 4:
        return ".".join(str(b) for b in value)
    return None


# --- messages ----------------------------------------------------------------------------------

@dataclass
class Pdu:
    tag: int
    request_id: int
    error_status: int
    varbinds: list[tuple[str, Any]]


@dataclass
class Message:
    version: int  # 0 v1, 1 v2c, 3 v3
    community: str | None = None
    pdu: Pdu | None = None
    msg_id: int | None = None
    flags: int = 0
    engine_id: bytes = b""
    engine_boots: int = 0
    engine_time: int = 0
    user: str = ""
    raw_security: bytes = field(default=b"", repr=False)


def encode_pdu(tag: int, request_id: int, varbinds: list[tuple[str, bytes]],
               error_status: int = 0) -> bytes:
    binds = sequence(*(sequence(oid(name), value) for name, value in varbinds))
    return sequence(integer(request_id), integer(error_status), integer(0), binds, tag=tag)


def v2c_get(community: str, oids: list[str], request_id: int | None = None) -> bytes:
    rid = next(_request_ids) if request_id is None else request_id
    return sequence(integer(1), octets(community),
                    encode_pdu(GET, rid, [(o, tlv(NULL, b"")) for o in oids]))


def usm_parameters(engine_id: bytes = b"", boots: int = 0, time: int = 0, user: str = "") -> bytes:
    return sequence(octets(engine_id), integer(boots), integer(time), octets(user),
                    octets(b""), octets(b""))


def v3_discovery(msg_id: int | None = None) -> bytes:
    """An unauthenticated, reportable GET with an empty engine ID: it only asks 'who are you'."""
    mid = next(_request_ids) if msg_id is None else msg_id
    header = sequence(integer(mid), integer(65507), octets(b"\x04"), integer(3))
    scoped = sequence(octets(b""), octets(b""), encode_pdu(GET, mid, []))
    return sequence(integer(3), header, octets(usm_parameters()), scoped)


def _decode_pdu(tag: int, value: bytes) -> Pdu:
    parts = children(value)
    if len(parts) < 4:
        raise BerError("short PDU")
    binds: list[tuple[str, Any]] = []
    for _, bind in children(parts[3][1]):
        items = children(bind)
        if len(items) == 2 and items[0][0] == OID:
            binds.append((decode_oid(items[0][1]), decode_value(*items[1])))
    return Pdu(tag, decode_value(*parts[0]), decode_value(*parts[1]), binds)


def decode_message(data: bytes) -> Message:
    tag, body, _ = read_tlv(data)
    if tag != SEQUENCE:
        raise BerError("not an SNMP message")
    parts = children(body)
    if len(parts) < 3 or parts[0][0] != INTEGER:
        raise BerError("not an SNMP message")
    version = decode_value(*parts[0])
    if version in (0, 1):
        return Message(version, community=parts[1][1].decode("utf-8", "replace"),
                       pdu=_decode_pdu(*parts[2]))
    if version != 3 or len(parts) < 4:
        raise BerError(f"unsupported SNMP version {version}")
    header = children(parts[1][1])
    security = children(read_tlv(parts[2][1])[1]) if parts[2][1] else []
    msg = Message(3, msg_id=decode_value(*header[0]), flags=header[2][1][0] if header[2][1] else 0,
                  raw_security=parts[2][1])
    if len(security) >= 4:
        msg.engine_id = security[0][1]
        msg.engine_boots = decode_value(*security[1])
        msg.engine_time = decode_value(*security[2])
        msg.user = security[3][1].decode("utf-8", "replace")
    if parts[3][0] == SEQUENCE:  # plaintext scoped PDU; encrypted ones stay opaque here
        scoped = children(parts[3][1])
        if len(scoped) >= 3:
            msg.pdu = _decode_pdu(*scoped[2])
    return msg


def engine_enterprise(engine_id: bytes) -> int | None:
    """The PEN an RFC 3411 engine ID starts with (first bit set), else None."""
    if len(engine_id) >= 5 and engine_id[0] & 0x80:
        return int.from_bytes(engine_id[:4], "big") & 0x7FFFFFFF
    return None


# --- probe -------------------------------------------------------------------------------------

async def probe_snmp(t: Transport, ip: str, credentials: SnmpCredentials | None) -> Answer | None:
    data = await t.datagram(ip, SNMP_PORT, v3_discovery())
    if not data:
        return None
    try:
        report = decode_message(data)
    except BerError:
        return None
    if report.version != 3:
        return None
    engine = report.engine_id
    fields: dict[str, Any] = {"engine_id": engine.hex(), "enterprise": engine_enterprise(engine)}
    values: dict[str, Any] = {}
    if credentials is not None and credentials.v3 is not None:
        fields["version"] = "v3"
        values = await t.snmp_v3_get(ip, [SYS_DESCR, SYS_OBJECT_ID], credentials.v3)
    elif credentials is not None and credentials.community is not None:
        fields["version"] = "v2c"
        reply = await t.datagram(ip, SNMP_PORT, v2c_get(credentials.community,
                                                         [SYS_DESCR, SYS_OBJECT_ID]))
        try:
            message = decode_message(reply) if reply else None
        except BerError:
            message = None
        if message is not None and message.pdu is not None and message.pdu.error_status == 0:
            values = {name: value for name, value in message.pdu.varbinds if value is not None}
    if SYS_DESCR in values:
        fields["sysDescr"] = str(values[SYS_DESCR])
    if SYS_OBJECT_ID in values:
        fields["sysObjectID"] = str(values[SYS_OBJECT_ID])
    return Answer("snmp", ip, port=SNMP_PORT, fields=fields)
