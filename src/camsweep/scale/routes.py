"""Which agent can reach which host: networks as Dask worker resources.

An agent advertises each network it can reach as a Dask resource named
`camsweep-net:10.20.0.0/16` (amount: the hosts it scans at once). A host's scan task
requires one unit of one such resource, so the scheduler only ever gives it to an agent
that declared that network, and gives it to another such agent if the first one dies.
Pure: worker records in, routes out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from camsweep.discover.scope import IPAddress, IPNetwork
from camsweep.errors import ConfigError

PREFIX = "camsweep-net:"


def resource_name(network: IPNetwork) -> str:
    return f"{PREFIX}{network}"


def network_of(resource: str) -> IPNetwork | None:
    if not resource.startswith(PREFIX):
        return None
    try:
        return ipaddress.ip_network(resource[len(PREFIX):])
    except ValueError:
        return None


def parse_networks(texts: Iterable[str]) -> list[IPNetwork]:
    """`--networks` values (CIDRs or addresses, comma- or space-separated), deduplicated."""
    out: list[IPNetwork] = []
    bad: list[str] = []
    for text in texts:
        for value in text.replace(",", " ").split():
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                bad.append(value)
                continue
            if net not in out:
                out.append(net)
    if bad:
        raise ConfigError(f"--networks: not a CIDR or address: {', '.join(bad)}")
    if not out:
        raise ConfigError("--networks: name at least one network the agent can reach, "
                          "e.g. --networks 10.20.0.0/16")
    return out


@dataclass(frozen=True)
class Agent:
    """A connected worker that declared networks (a plain Dask worker declares none)."""

    address: str
    name: str
    networks: tuple[IPNetwork, ...]


def agents(workers: Mapping[str, Mapping[str, Any]]) -> list[Agent]:
    """Running agents among the scheduler's worker records (`scheduler_info()['workers']`);
    one that is closing takes no more hosts, so it does not count."""
    out: list[Agent] = []
    for address, info in sorted(workers.items()):
        if info.get("status", "running") != "running":
            continue
        nets = tuple(n for n in (network_of(r) for r in info.get("resources", {})) if n)
        if nets:
            out.append(Agent(address, str(info.get("name", address)), nets))
    return out


def route(host: IPAddress, live: Sequence[Agent]) -> str | None:
    """The resource a scan of `host` should require: of the declared networks that hold
    it, the one the most live agents declared (more agents to fall back on), then the
    narrowest; None when no agent can reach the host."""
    counts: dict[IPNetwork, int] = {}
    for agent in live:
        for net in agent.networks:
            if net.version == host.version and host in net:
                counts[net] = counts.get(net, 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda n: (counts[n], n.prefixlen, -int(n.network_address)))
    return resource_name(best)


def offered(resource: str, live: Sequence[Agent]) -> list[str]:
    """Names of the live agents that declared the resource's network."""
    net = network_of(resource)
    return [a.name for a in live if net is not None and net in a.networks]
