"""Authenticated SNMPv3 GET through pysnmp (its USM: key localisation, HMAC, AES/DES).

Only `SocketTransport.snmp_v3_get` calls this, after the scope check and after the host
answered an engine-discovery request; pysnmp opens its own UDP socket to that one address.
"""

from __future__ import annotations

from typing import Any

from pysnmp.hlapi.v3arch import asyncio as hl  # type: ignore[import-untyped]

from camsweep.discover.credentials import SnmpV3User

_AUTH = {"MD5": "usmHMACMD5AuthProtocol", "SHA": "usmHMACSHAAuthProtocol",
         "SHA224": "usmHMAC128SHA224AuthProtocol", "SHA256": "usmHMAC192SHA256AuthProtocol",
         "SHA384": "usmHMAC256SHA384AuthProtocol", "SHA512": "usmHMAC384SHA512AuthProtocol"}
_PRIV = {"DES": "usmDESPrivProtocol", "3DES": "usm3DESEDEPrivProtocol",
         "AES": "usmAesCfb128Protocol", "AES192": "usmAesCfb192Protocol",
         "AES256": "usmAesCfb256Protocol"}


def engine() -> Any:
    return hl.SnmpEngine()


def usm_user(user: SnmpV3User) -> Any:
    auth = getattr(hl, _AUTH[user.auth_protocol]) if user.auth_key else hl.usmNoAuthProtocol
    priv = getattr(hl, _PRIV[user.priv_protocol]) if user.priv_key else hl.usmNoPrivProtocol
    return hl.UsmUserData(user.user, authKey=user.auth_key, privKey=user.priv_key,
                          authProtocol=auth, privProtocol=priv)


def _value(value: Any) -> Any:
    if isinstance(value, hl.ObjectIdentifier):
        return str(value)
    if value.__class__.__name__ in ("NoSuchObject", "NoSuchInstance", "EndOfMibView"):
        return None
    try:
        return value.prettyPrint()
    except AttributeError:
        return str(value)


async def get(snmp_engine: Any, host: str, oids: list[str], user: SnmpV3User, timeout: float,
              retries: int) -> dict[str, Any]:
    target = await hl.UdpTransportTarget.create((host, 161), timeout=timeout, retries=retries)
    error, status, _index, binds = await hl.get_cmd(
        snmp_engine, usm_user(user), target, hl.ContextData(),
        *(hl.ObjectType(hl.ObjectIdentity(o)) for o in oids), lookupMib=False)
    if error or status:
        return {}
    out: dict[str, Any] = {}
    for name, value in binds:
        converted = _value(value)
        if converted is not None:
            out[str(name)] = converted
    return out
