"""One emulated device in the foreground: `python -m camsweep.testbed --profile ID --ip A`.

Used inside network namespaces (see `netns.py`); prints `ready` once listening and serves
until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from camsweep.testbed.bed import Testbed
from camsweep.testbed.profiles import host_spec, profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camsweep.testbed")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--ip", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--mac")
    parser.add_argument("--multicast", metavar="INTERFACE",
                        help="also answer multicast discovery on this interface")
    args = parser.parse_args(argv)
    spec = host_spec(profile(args.profile), args.n, args.ip, args.mac)
    bed = Testbed(specs=[spec], multicast_interface=args.multicast)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await bed.start()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await bed.stop()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
