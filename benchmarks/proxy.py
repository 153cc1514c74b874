"""Latency the proxy adds: p50/p99 through ``alignlab serve`` vs directly to the same local upstream.

    python benchmarks/proxy.py [--rps 200] [--seconds 10] [--monitor [--monitor-process]] [--db-url URL]

Open-loop load: requests are started on a fixed schedule (``--rps``) whether or not earlier
ones finished, so queueing shows up in the tail. Both runs hit the same fake upstream (a
separate process); the proxy logs every interaction to a SQLite store, and with
``--monitor`` also scores them (refusal, toxicity, profanity) on its background thread, or with
``--monitor-process`` in a child process that polls the store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "src"), str(Path(__file__).resolve().parents[1])]

from benchmarks._servers import cpu_seconds, service, upstream  # noqa: E402

BODY = {"model": "echo", "messages": [{"role": "user", "content": "What is the capital of France?"}]}


async def _open_loop(url: str, headers: dict[str, str], rps: float, seconds: float) -> tuple[list[float], int]:
    # aiohttp, not httpx, for the load: httpx would spend more CPU per request than the proxy on a shared machine.
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=512)) as client:
        for _ in range(20):  # warm the connection pool and both servers
            async with client.post(url, json=BODY) as response:
                await response.read()

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            try:
                async with client.post(url, json=BODY) as response:
                    await response.read()
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append(time.perf_counter() - t0)
            errors += response.status != 200

        tasks = []
        start = time.perf_counter()
        for i in range(int(rps * seconds)):
            delay = start + i / rps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies, errors


def _summary(name: str, lat: list[float], errors: int) -> tuple[float, float]:
    lat = sorted(lat)
    p50, p99 = statistics.median(lat) * 1000, lat[int(0.99 * (len(lat) - 1))] * 1000
    print(f"{name:<8} n={len(lat):5d} errors={errors:3d}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
    return p50, p99


def _backlog(db: str) -> str:
    """Wait (up to 30 s) for the monitor to score everything: did it keep up with the load?"""
    from sqlalchemy import func, select

    from alignlab.store import open_store
    from alignlab.store.service_tables import InteractionRow

    store = open_store(db, migrate=False)
    rows = select(func.count()).select_from(InteractionRow)
    t0 = time.perf_counter()
    while True:
        with store.session() as session:
            total = session.scalar(rows) or 0
            scored = session.scalar(rows.where(InteractionRow.scored_at.is_not(None))) or 0
        if scored == total or time.perf_counter() - t0 > 30:
            break
        time.sleep(0.1)
    store.close()
    return f"monitor: {scored}/{total} interactions scored {time.perf_counter() - t0:.1f} s after the load ended"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--monitor", action="store_true", help="run the detectors too")
    parser.add_argument("--monitor-process", action="store_true", help="run them in a child process")
    parser.add_argument("--db-url", default=None, help="store URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    from alignlab.monitor import create_key
    from alignlab.store import open_store

    with upstream() as up, tempfile.TemporaryDirectory() as tmp:
        db = args.db_url or f"sqlite:///{tmp}/proxy.db"
        store = open_store(db)
        token = create_key(store, role="annotator").token
        store.close()
        mode = ["--monitor-process" if args.monitor_process else "--monitor-thread"]
        extra = ["--no-drift", *mode] if args.monitor else ["--no-monitor"]
        with service(db, "--upstream", up.url, *extra) as proxy:
            monitor = ("in a process" if args.monitor_process else "on a thread") if args.monitor else "off"
            print(f"{args.rps:g} requests/s for {args.seconds:g} s, monitor {monitor}")
            up0 = cpu_seconds(up.pid)
            direct_latencies, direct_errors = asyncio.run(
                _open_loop(f"{up.url}/chat/completions", {}, args.rps, args.seconds)
            )
            up_cpu = cpu_seconds(up.pid) - up0
            direct = _summary("direct", direct_latencies, direct_errors)
            cpu0 = cpu_seconds(proxy.pid)
            latencies, errors = asyncio.run(
                _open_loop(
                    f"{proxy.url}/v1/chat/completions", {"Authorization": f"Bearer {token}"}, args.rps, args.seconds
                )
            )
            cpu = cpu_seconds(proxy.pid) - cpu0
            proxied = _summary("proxy", latencies, errors)
            if args.monitor:
                print(_backlog(db))
    print(f"added by the proxy: p50 {proxied[0] - direct[0]:+.2f} ms, p99 {proxied[1] - direct[1]:+.2f} ms")
    print(
        f"proxy process CPU: {1000 * cpu / max(len(latencies), 1):.2f} ms per request "
        f"(a ceiling of about {len(latencies) / max(cpu, 1e-9):.0f} requests/s per core); "
        f"the upstream, a bare FastAPI endpoint, used {1000 * up_cpu / max(len(direct_latencies), 1):.2f} ms"
    )
    print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
