"""Benchmark of the Holter API server on loopback; prints figures only (no asserts).

1. Status requests per second: one keep-alive connection (sequential), then 8 concurrent
   connections (asyncio), each a bounded number of requests; also the server's CPU time per
   request (targets: >= 1000 requests/s).
2. Server memory while a 500 MB upload streams: the server process's RSS sampled every 50 ms
   during the PUT (target: growth < 100 MB). The bytes come from a generator, so the client
   holds no file either.

Run: ``.venv/bin/python benchmarks/api.py [--upload-mb 500] [--requests 3000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
PREFIX = "/api/v1/advanced/ecg/holter"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, port: int) -> subprocess.Popen:
    cfg = data / "config.json"
    cfg.write_text(json.dumps({"rate_limit_per_s": 0, "max_file_size": 600_000_000}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holterlab",
            "serve",
            "--data-dir",
            str(data / "d"),
            "--port",
            str(port),
            "--config",
            str(cfg),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--upload-mb", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="holterlab-bench-") as tmp:
        data = Path(tmp)
        key = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "holterlab",
                    "keys",
                    "create",
                    "bench",
                    "--data-dir",
                    str(data / "d"),
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            ).stdout
        )
        port = free_port()
        server = start_server(data, port)
        ps = psutil.Process(server.pid)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {key['api_key']}"}
        try:
            with httpx.Client(base_url=base, headers=auth) as client:
                r = client.post(
                    f"{PREFIX}/upload-url",
                    json={
                        "filename": "x.aiecg",
                        "file_size": args.upload_mb * 1_000_000,
                        "file_format": "aiecg",
                        "duration_hours": 24,
                    },
                )
                info = r.json()["data"]
                url = f"{PREFIX}/status/{info['task_id']}"
                for _ in range(50):  # warm up
                    client.get(url)
                cpu0 = sum(ps.cpu_times()[:2])
                t0 = time.perf_counter()
                for _ in range(args.requests):
                    assert client.get(url).status_code == 200
                dt = time.perf_counter() - t0
                cpu = sum(ps.cpu_times()[:2]) - cpu0
            print(
                f"status, httpx client : {args.requests / dt:8.0f} requests/s "
                f"(server CPU {1000 * cpu / args.requests:.2f} ms/request, "
                f"= {args.requests / cpu:.0f} requests/s per core)"
            )

            async def burst(n_conn: int, per_conn: int) -> float:
                async with httpx.AsyncClient(base_url=base, headers=auth) as ac:

                    async def worker() -> None:
                        for _ in range(per_conn):
                            (await ac.get(url)).raise_for_status()

                    t = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(n_conn)))
                    return time.perf_counter() - t

            # a minimal keep-alive client on a raw socket, so the client's own cost (httpx is
            # ~0.5 ms/request) does not hide the server's rate
            raw = (
                f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {key['api_key']}\r\n\r\n"
            ).encode()
            with socket.create_connection(("127.0.0.1", port)) as sock:
                buf = b""
                t0 = time.perf_counter()
                for _ in range(args.requests):
                    sock.sendall(raw)
                    while True:
                        head, sep, rest = buf.partition(b"\r\n\r\n")
                        if sep:
                            length = int(
                                head.lower().split(b"content-length:")[1].split(b"\r\n")[0]
                            )
                            if len(rest) >= length:
                                assert head.startswith(b"HTTP/1.1 200")
                                buf = rest[length:]
                                break
                        buf += sock.recv(65536)
                dt_raw = time.perf_counter() - t0
            print(f"status, raw socket   : {args.requests / dt_raw:8.0f} requests/s")

            per = max(1, args.requests // 8)
            dt8 = asyncio.run(burst(8, per))
            print(f"status, 8 httpx conns: {8 * per / dt8:8.0f} requests/s")

            # ---------------------------------------------------------- 500 MB upload
            total = args.upload_mb * 1_000_000
            block = os.urandom(1 << 20)

            def body():
                sent = 0
                while sent < total:
                    n = min(len(block), total - sent)
                    sent += n
                    yield block[:n]

            samples: list[int] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    samples.append(ps.memory_info().rss)
                    time.sleep(0.05)

            rss0 = ps.memory_info().rss
            th = threading.Thread(target=sample)
            th.start()
            t0 = time.perf_counter()
            r = httpx.put(
                info["upload_url"],
                content=body(),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(total)},
                timeout=300,
            )
            dt = time.perf_counter() - t0
            stop.set()
            th.join()
            growth = (max(samples) - rss0) / 1e6
            print(
                f"upload {args.upload_mb} MB: HTTP {r.status_code} in {dt:.1f} s "
                f"({args.upload_mb / dt:.0f} MB/s); server RSS {rss0 / 1e6:.0f} MB before, "
                f"peak growth {growth:.1f} MB during the upload"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
