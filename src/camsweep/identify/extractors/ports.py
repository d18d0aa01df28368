"""Open ports: vendor protocols on characteristic ports (weak, but survives relabelling)."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION
from camsweep.kb.match import port_hits


def extract(ev: Evidence, obs: Observations) -> None:
    if not ev.open_ports:
        return
    for rule in port_hits(obs.kb, frozenset(ev.open_ports)):
        value = "+".join(f"{p}/tcp" for p in sorted(rule.ports))
        obs.findings.append(
            Finding(
                "ports",
                fam.PORTS,
                value,
                rule.maker,
                FUSION.weight("ports") * rule.weight,
                f"ports.yaml:{rule.id} ({rule.source})",
                device_type=rule.device_type.value if rule.device_type else None,
            )
        )
