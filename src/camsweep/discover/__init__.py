"""Discovery: find devices on authorised networks, actively (scanner) or from files
(nmap, masscan, pcap, DHCP leases, ARP/MAC tables), and merge them into the store.

    from camsweep.discover import load_scope, parse_targets, authorise, scan, ScanOptions
    scope = load_scope("scope.txt")
    plan = authorise(parse_targets(["10.20.0.0/24"]), scope)   # ScopeError: nothing is sent
    result = scan(store, plan, scope, ScanOptions())
"""

from camsweep.discover.credentials import Credentials, load_credentials
from camsweep.discover.evidence import evidence_for
from camsweep.discover.merge import Merger, MergeStats
from camsweep.discover.model import Answer, HostReport
from camsweep.discover.net import Limits
from camsweep.discover.scanner import ScanOptions, ScanResult, scan, scan_async, scan_host
from camsweep.discover.scope import (
    Authorised,
    Scope,
    ScopeGuard,
    authorise,
    load_scope,
    parse_scope,
    parse_targets,
)

__all__ = [
    "Answer", "Authorised", "Credentials", "HostReport", "Limits", "MergeStats", "Merger",
    "ScanOptions", "ScanResult", "Scope", "ScopeGuard", "authorise", "evidence_for",
    "load_credentials", "load_scope", "parse_scope", "parse_targets", "scan", "scan_async",
    "scan_host",
]
