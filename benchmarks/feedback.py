"""Feedback ingest rate: POST /v1/feedback events/s on SQLite and on PostgreSQL.

    python benchmarks/feedback.py [--seconds 10] [--concurrency 32] [--batch 1] [--pg-url postgresql+psycopg://...]

Without ``--pg-url`` a throwaway PostgreSQL is started from Debian's binaries (as in the
tests). Prints acknowledged events per second and latency percentiles per backend.
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
import httpx

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "src"), str(Path(__file__).resolve().parents[1])]

from benchmarks._servers import cpu_seconds, service, upstream  # noqa: E402


async def _load(
    base: str, token: str, interaction: str, seconds: float, concurrency: int, batch: int
) -> tuple[int, list[float]]:
    # aiohttp, not httpx, for the load: httpx would spend more CPU per request than the server on a shared machine.
    latencies: list[float] = []
    ok = 0
    end = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=base, headers=headers, connector=connector) as client:

        async def worker(n: int) -> None:
            nonlocal ok
            i = 0
            while time.perf_counter() < end:
                body = {"kind": "score", "interaction_id": interaction, "score": 1 + (n + i) % 10}
                t0 = time.perf_counter()
                if batch > 1:
                    async with client.post("/v1/feedback/batch", json={"items": [body] * batch}) as response:
                        results = await response.json() if response.status == 200 else []
                    ok += sum(r["status"] == 201 for r in results)
                else:
                    async with client.post("/v1/feedback", json=body) as response:
                        await response.read()
                        ok += response.status == 201
                latencies.append(time.perf_counter() - t0)
                i += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return ok, latencies


def bench(db_url: str, up: str, seconds: float, concurrency: int, batch: int) -> None:
    from alignlab.monitor import create_key
    from alignlab.store import open_store

    store = open_store(db_url)
    token = create_key(store, role="annotator").token
    store.close()
    with service(db_url, "--upstream", up.url, "--no-drift") as running:
        base = running.url
        first = httpx.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "echo", "messages": [{"role": "user", "content": "hi"}]},
        )
        interaction = first.headers["x-alignlab-interaction-id"]
        start, cpu0 = time.perf_counter(), cpu_seconds(running.pid)
        ok, lat = asyncio.run(_load(base, token, interaction, seconds, concurrency, batch))
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(running.pid) - cpu0
    lat.sort()
    backend = db_url.split(":", 1)[0]
    print(
        f"{backend:<20} {ok / elapsed:8.0f} events/s  ({ok} acknowledged in {elapsed:.1f} s, "
        f"concurrency {concurrency}, {batch} per request); request latency p50 {1000 * statistics.median(lat):.1f} ms, "
        f"p99 {1000 * lat[int(0.99 * (len(lat) - 1))]:.1f} ms; server CPU {1e6 * cpu / max(ok, 1):.0f} µs per event; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--batch", type=int, default=1, help="events per request (>1 uses /v1/feedback/batch)")
    args = parser.parse_args()
    with upstream() as up:
        with tempfile.TemporaryDirectory() as tmp:
            bench(f"sqlite:///{tmp}/bench.db", up, args.seconds, args.concurrency, args.batch)
        if args.pg_url:
            bench(args.pg_url, up, args.seconds, args.concurrency, args.batch)
            return
        from tests import pg

        bindir = pg._find_bindir()
        if bindir is None:
            print("postgresql: skipped (no server binaries; pass --pg-url)")
            return
        base = Path(tempfile.mkdtemp(prefix="alignlab-bench-pg-"))
        url = pg._start_server(bindir, base)
        try:
            bench(url, up, args.seconds, args.concurrency, args.batch)
        finally:
            pg._run([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop"])


if __name__ == "__main__":
    main()
