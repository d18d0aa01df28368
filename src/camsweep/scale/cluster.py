"""Reaching a Dask cluster: a LocalCluster for one machine, or a scheduler by address with TLS.

Certificates come from a directory made by `camsweep agent certs` (`ca.pem` plus the
role's `NAME.pem` and `NAME-key.pem`); Dask checks both ends of every connection
against the CA (mutual TLS), so a process without a certificate from that CA is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from distributed import Client
from distributed.security import Security

from camsweep.errors import CamsweepError, ConfigError
from camsweep.scale.dask_api import close, local_cluster, make_client, make_security

LOCAL_WORKERS = 2
CONNECT_TIMEOUT = 20.0
Role = Literal["client", "scheduler", "worker"]


class ClusterError(CamsweepError):
    """The Dask scheduler or its agents cannot be reached, refused us, or went away."""


def tls_files(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """(CA certificate, certificate, key) of `name` in a `camsweep agent certs` directory."""
    files = (directory / "ca.pem", directory / f"{name}.pem", directory / f"{name}-key.pem")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"TLS files missing: {', '.join(missing)}; make them with "
                          f"`camsweep agent certs --out {directory}`")
    return files


def security(role: Role, ca: Path, cert: Path, key: Path) -> Security:
    """Dask security for one role with encryption required (no plain-TCP fallback)."""
    for path in (ca, cert, key):
        if not path.is_file():
            raise ConfigError(f"TLS file not found: {path}")
    fields = {f"tls_{role}_cert": str(cert), f"tls_{role}_key": str(key)}
    return make_security(require_encryption=True, tls_ca_file=str(ca), **fields)


def client_security(tls_dir: Path | None) -> Security | None:
    """The central process's security from a certificates directory, if one is given."""
    if tls_dir is None:
        return None
    return security("client", *tls_files(tls_dir, "client"))


def tls_address(address: str, secure: bool) -> str:
    """`host:port` gets the scheme its security implies; an explicit scheme is kept."""
    if "://" in address:
        return address
    return f"{'tls' if secure else 'tcp'}://{address}"


def _quiet_dask() -> None:
    for name in ("distributed", "distributed.worker", "distributed.scheduler",
                 "distributed.nanny", "distributed.core", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def open_client(scheduler: str | None, sec: Security | None = None, *,
                workers: int = LOCAL_WORKERS, processes: bool = True) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster that lives as long
    as the client: `workers` worker processes of one thread each (the bulk core is
    mostly Python, so processes scale where threads would share one GIL), or with
    `processes=False` one in-process worker with `workers` threads."""
    _quiet_dask()
    if scheduler is None:
        shape = ({"n_workers": workers, "threads_per_worker": 1} if processes
                 else {"n_workers": 1, "threads_per_worker": workers})
        with local_cluster(processes=processes, dashboard_address=":0",
                           silence_logs=logging.ERROR, **shape) as cluster, \
                make_client(cluster, direct_to_workers=True) as client:
            yield client
        return
    address = tls_address(scheduler, sec is not None)
    try:
        client = make_client(address, security=sec, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {exc}. Is it "
                           "running, and are the certificates from its CA?") from exc
    try:
        yield client
    finally:
        close(client)
