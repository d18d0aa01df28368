"""Probes: each builds requests and parses replies, talking only through a `Transport`.

`base.RecordedTransport` replays recorded device answers for tests; the scanner uses
`camsweep.discover.net.SocketTransport`, which checks the authorised scope before every packet.
"""

from camsweep.discover.probes.base import HttpReply, RecordedTransport, Transport

__all__ = ["HttpReply", "RecordedTransport", "Transport"]
