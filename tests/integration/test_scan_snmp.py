"""SNMP against an independent agent (pysnmp's command responder) on loopback: the hand-written
BER engine discovery and v2c GET, and the SNMPv3 USM (authPriv) path through pysnmp."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp  # type: ignore[import-untyped]
from pysnmp.entity import config, engine  # type: ignore[import-untyped]
from pysnmp.entity.rfc3413 import cmdrsp, context  # type: ignore[import-untyped]

from camsweep.discover.credentials import SnmpCredentials, SnmpV3User
from camsweep.discover.net import Limits, SocketTransport
from camsweep.discover.probes import snmp
from camsweep.discover.scope import ScopeGuard, parse_scope

IP = "127.41.0.1"
PYSNMP_PEN = 20408  # the enterprise number pysnmp puts in its engine ID


def agent() -> Any:
    """A pysnmp agent: v2c community 'ro-community', v3 user 'mon' (SHA-1 + AES-128)."""
    eng = engine.SnmpEngine()
    config.add_transport(eng, udp.DOMAIN_NAME, udp.UdpTransport().open_server_mode((IP, 161)))
    config.add_v1_system(eng, "area", "ro-community")
    config.add_vacm_user(eng, 2, "area", "noAuthNoPriv", (1, 3, 6, 1, 2, 1))
    config.add_v3_user(eng, "mon", config.USM_AUTH_HMAC96_SHA, "authkey-123",
                       config.USM_PRIV_CFB128_AES, "privkey-123")
    config.add_vacm_user(eng, 3, "mon", "authPriv", (1, 3, 6, 1, 2, 1))
    cmdrsp.GetCommandResponder(eng, context.SnmpContext(eng))
    eng.transport_dispatcher.job_started(1)
    return eng


async def probe(credentials: SnmpCredentials) -> Any:
    eng = agent()
    scope = parse_scope(f"{IP}\n")
    try:
        guard = ScopeGuard(scope, [ipaddress.ip_address(IP)])
        async with SocketTransport(guard, Limits(timeout=1.0, retries=1)) as t:
            return await snmp.probe_snmp(t, IP, credentials)
    finally:
        eng.transport_dispatcher.close_dispatcher()


def test_v2c_after_engine_discovery_against_a_real_agent() -> None:
    answer = asyncio.run(probe(SnmpCredentials(community="ro-community")))
    assert answer is not None
    assert answer.fields["enterprise"] == PYSNMP_PEN
    assert answer.fields["version"] == "v2c"
    assert answer.fields["sysDescr"].startswith("PySNMP engine")
    assert answer.fields["sysObjectID"] == f"1.3.6.1.4.1.{PYSNMP_PEN}"


def test_v3_auth_priv_against_a_real_agent() -> None:
    user = SnmpV3User("mon", "authkey-123", "privkey-123", "SHA", "AES")
    answer = asyncio.run(probe(SnmpCredentials(v3=user)))
    assert answer is not None and answer.fields["version"] == "v3"
    assert answer.fields["sysDescr"].startswith("PySNMP engine")
    wrong = SnmpV3User("mon", "wrong-key-123", "privkey-123", "SHA", "AES")
    refused = asyncio.run(probe(SnmpCredentials(v3=wrong)))
    assert refused is not None and "sysDescr" not in refused.fields
