"""SNMP: the sysObjectID enterprise tree, and model numbers or names in sysDescr."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    info = ev.snmp
    if info is None:
        return
    oid = clean(info.sysObjectID)
    if oid:
        fingerprint(obs, "snmp_sysobjectid", oid)
    descr = clean(info.sysDescr)
    if descr:
        fingerprint(obs, "snmp_sysdescr", descr)
        obs.models.append(("snmp", descr))
