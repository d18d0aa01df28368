"""Which devices call vendor clouds and P2P relays, where and since when, per site: in the
return (the department's view) and in a site's dossier."""

from __future__ import annotations

from collections.abc import Collection

from camsweep.report.model import Column, Table
from camsweep.store import Store
from camsweep.store.callhome import callhome_by_site


def callhome_table(store: Store, site_pks: Collection[int] | None) -> Table:
    rows = callhome_by_site(store, site_pks)
    return Table(
        "call_home", "Devices calling vendor clouds and P2P services",
        [Column("site_id", "Site"), Column("asset_id", "Asset"), Column("ip", "Address"),
         Column("maker", "Service of"), Column("service", "Service"),
         Column("endpoint", "Endpoint"), Column("first_seen", "First seen (UTC)", "datetime"),
         Column("last_seen", "Last seen (UTC)", "datetime"), Column("count", "Contacts", "int")],
        [[r.site_id or "(no site)", r.asset_id or "(unregistered)", r.ip, r.maker, r.service,
          r.endpoint, r.first_seen, r.last_seen, r.count] for r in rows],
        note="From imported DNS and flow logs (camsweep import dns|flows). Egress to these "
             "endpoints should be blocked until the device is removed.")
