"""A local stand-in for PayPal's IPN postback host, for the benchmark only.

Answers ``VERIFIED`` to ``POST`` bodies starting with ``cmd=_notify-validate`` (else
``INVALID``) after a fixed delay, with HTTP/1.1 keep-alive. One asyncio loop, so a
200 ms delay costs a timer, not a thread, and thousands of postbacks can wait at once.

    python postback.py --port 8801 --delay-ms 0
"""

import argparse
import asyncio
import os
import signal


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip() or 0)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await reader.readexactly(length) if length else b""
            if delay:
                await asyncio.sleep(delay)
            answer = b"VERIFIED" if body.startswith(b"cmd=_notify-validate") else b"INVALID"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s"
                % (len(answer), b"Connection: close\r\n" if close else b"", answer)
            )
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(host: str, port: int, delay: float) -> None:
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, delay), host, port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"postback server pid {os.getpid()} on {host}:{port}, delay {delay * 1000:.0f} ms",
        flush=True,
    )
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port, args.delay_ms / 1000))
