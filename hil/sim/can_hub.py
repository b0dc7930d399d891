"""A loopback CAN "bus" between processes: python-can-remote's server over a virtual channel.

The simulated rig needs CAN between the framework and the reference BMS process. These
machines have no SocketCAN (so no vcan), and python-can's udp_multicast would leave the host.
python-can-remote serves any python-can bus over a WebSocket; serving the in-process `virtual`
interface makes every client see every other client's frames, like nodes on one bus. We bind
to loopback only; TCP gives back-pressure instead of silent loss. Measurements and the
comparison with udp_multicast in a network namespace are in README.md ("Why python-can-remote").

Run as `python -m hil.sim.can_hub --port 0`: it prints `PORT <n>` once it listens and exits
when its stdin closes (its parent is gone) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading

from can_remote import RemoteServer


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.sim.can_hub")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--channel", default="hil-sim-hub")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"--host {args.host}: the simulated CAN hub only listens on loopback "
                     "(127.0.0.0/8 or ::1)")
    logging.basicConfig(level=logging.WARNING)
    server = RemoteServer(host=args.host, port=args.port, interface="virtual",
                          channel=args.channel, receive_own_messages=False)
    print(f"PORT {server.server_port}", flush=True)

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_parent() -> None:
        try:
            while os.read(sys.stdin.fileno(), 64):
                pass
        except (OSError, ValueError):
            pass
        stop()

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
