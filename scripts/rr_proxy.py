"""A small round-robin TCP proxy: several `gridgov serve` nodes behind one address.

Each accepted connection goes to the next backend in turn and is piped both ways until
either side closes, so plain requests, keep-alive and server-sent event streams pass
unchanged (a load balancer such as haproxy in TCP mode does the same). A backend that
refuses the connection is skipped for that connection. Standard library only.

    python scripts/rr_proxy.py --listen 127.0.0.1:8000 \\
        --backend 127.0.0.1:8001 --backend 127.0.0.1:8002

Prints ``listening on HOST:PORT`` once ready (``--listen 127.0.0.1:0`` picks a free port);
``--log`` prints which backend got each connection.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys

CHUNK = 64 * 1024


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if not writer.is_closing():
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                writer.close()


class Proxy:
    def __init__(self, backends: list[tuple[str, int]], log: bool = False) -> None:
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))
        self.log = log

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        for _ in range(len(self.backends)):
            host, port = self.backends[next(self.turn)]
            try:
                node_r, node_w = await asyncio.open_connection(host, port)
                break
            except OSError:
                continue
        else:
            client_w.close()
            return
        if self.log:
            print(f"connection -> {host}:{port}", flush=True)
        await asyncio.gather(pipe(client_r, node_w), pipe(node_r, client_w))
        for w in (client_w, node_w):
            w.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, default=("127.0.0.1", 8000))
    parser.add_argument("--backend", type=address, action="append", required=True)
    parser.add_argument("--log", action="store_true")
    args = parser.parse_args()
    proxy = Proxy(args.backend, args.log)
    server = await asyncio.start_server(proxy.handle, *args.listen)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
