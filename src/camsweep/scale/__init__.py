"""Scale-out on Dask distributed: bulk identification over partitions, and scan agents.

    from camsweep.scale.bulk import identify_register
    from camsweep.scale.cluster import client_security, open_client
    from camsweep.scale.dispatch import scan_on_cluster

    with open_client(None) as client:                   # a LocalCluster, one process per core
        identify_register(client, kb, Path("register.csv"), renames={},
                          out=Path("verdicts.csv"), shared=True)
    with open_client("tls://central:8786", client_security(Path("certs"))) as client:
        scan_on_cluster(store, plan, scope, ScanOptions(), client)

Bulk: `chunks` cuts inputs into record-aligned partitions, `tasks` runs the single-process
core on one partition on a worker, `bulk` drives a run (bounded window, ordered output),
`window` is the ordered bounded map, `commands` is what the CLI calls. Scanning: `agent`
is the worker side (the agent's networks, scope and transports), `routes` maps hosts to
agents through worker resources, `dispatch` is the central side. `cluster` connects (TLS
from `certs`), `scheduler` serves one, `dask_api` types the untyped parts of distributed.

Nothing is re-exported here: workers import the modules their tasks live in, and an agent
should not load the bulk path (or a worker the scan path) to run one task.
"""
