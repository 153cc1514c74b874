"""The service under hostile input and kill -9 (issue 13's checks), on SQLite or a throwaway PostgreSQL.

    python benchmarks/hostile.py poison [--postgres] [--innocent 300]
    python benchmarks/hostile.py kill [--postgres] [--kills 5] [--acked-per-kill 400]
    python benchmarks/hostile.py metrics [--names 5000]

``poison``: ``alignlab serve`` (no monitor) in front of the fake upstream gets ``--innocent``
chat completions (a third streamed) and as many feedback posts, all at once, mixed with hostile
requests (a lone surrogate or a NUL in content, model name, feedback comment and id). Prints
how many innocent requests got a 5xx, how many streams ended without ``[DONE]``, what the hostile
ones got, and whether every innocent row is in the store.

``metrics``: completions with ``--names`` invented model names (the fake upstream answers any
name), then the size of ``/metrics`` and the time of one scrape.

``kill``: four clients mix completions and feedback; the server is killed with SIGKILL after
``--acked-per-kill`` acknowledged events, restarted on the same store, ``--kills`` times. Prints
how many acknowledged events are missing from the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import httpx

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "src"), str(Path(__file__).resolve().parents[1])]

from benchmarks._servers import _env, _wait, free_port, upstream  # noqa: E402


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    """A fresh SQLite file, or a private PostgreSQL server (tests/pg.py's) for the run."""
    base = Path(tempfile.mkdtemp(prefix="alignlab-hostile-"))
    try:
        if not postgres:
            yield f"sqlite:///{base / 'hostile.db'}"
            return
        from tests.pg import _find_bindir, _run, _start_server

        bindir = _find_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL binaries not found")
        url = _start_server(bindir, base)
        try:
            yield url
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _start(db_url: str, upstream_url: str, port: int) -> subprocess.Popen[bytes]:
    serve = "import sys; from alignlab.cli.main import main; sys.argv[0] = 'alignlab'; main()"
    args = [sys.executable, "-c", serve, "serve", "--port", str(port), "--upstream", upstream_url, "--no-monitor"]
    proc = subprocess.Popen(args, env=_env(ALIGNLAB_DATABASE_URL=db_url), stdout=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def _key(db_url: str) -> str:
    from alignlab.monitor import create_key
    from alignlab.store import open_store

    store = open_store(db_url)
    try:
        return create_key(store, role="moderator").token
    finally:
        store.close()


def _chat(content: str, *, model: str = "echo", stream: bool = False) -> bytes:
    # json.dumps escapes a lone surrogate as \\ud800, as a client's JSON library would send it.
    return json.dumps({"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]}).encode()


async def _poison_load(url: str, token: str, innocent: int) -> dict[str, Counter[str]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=200)) as client:
        async with client.post(f"{url}/v1/chat/completions", data=_chat("seed")) as response:
            seed = response.headers["x-alignlab-interaction-id"]
        jobs: list[tuple[str, str, bytes]] = []
        for i in range(innocent):
            jobs.append(("innocent chat", "/v1/chat/completions", _chat(f"question {i}", stream=i % 3 == 0)))
            body = {"kind": "score", "interaction_id": seed, "score": 1 + i % 10, "comment": f"fine {i}"}
            jobs.append(("innocent feedback", "/v1/feedback", json.dumps(body).encode()))
        hostile = [
            _chat("x \ud800 y"),
            _chat("x \x00 y"),
            _chat("x", model="echo\x00"),
            _chat("x \udfff y", stream=True),
            json.dumps({"kind": "score", "interaction_id": seed, "score": 5, "comment": "a\x00b"}).encode(),
            json.dumps({"kind": "thumbs", "interaction_id": "ab\x00cd", "value": "up"}).encode(),
        ]
        for i in range(innocent // 10):
            body = hostile[i % len(hostile)]
            path = "/v1/feedback" if b'"kind"' in body else "/v1/chat/completions"
            jobs.insert((i * 23) % len(jobs), ("hostile", path, body))

        async def one(kind: str, path: str, body: bytes) -> tuple[str, str]:
            try:
                async with client.post(f"{url}{path}", data=body) as response:
                    text = await response.text()
                    status = str(response.status)
                    if b'"stream": true' in body and response.status == 200 and "data: [DONE]" not in text:
                        status = "200 without [DONE]"
                    return kind, status
            except aiohttp.ClientError as exc:  # a stream cut short by the server
                return kind, f"{response.status if 'response' in locals() else '?'} then {type(exc).__name__}"

        results = await asyncio.gather(*(one(*job) for job in jobs))
    tally: dict[str, Counter[str]] = {}
    for kind, status in results:
        tally.setdefault(kind, Counter())[status] += 1
    return tally


def poison(args: argparse.Namespace) -> None:
    with database(args.postgres) as db, upstream() as up:
        token = _key(db)
        port = free_port()
        server = _start(db, up.url, port)
        try:
            start = time.perf_counter()
            tally = asyncio.run(_poison_load(f"http://127.0.0.1:{port}", token, args.innocent))
            seconds = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(15)
        from alignlab.monitor import InteractionFilter, list_feedback, list_interactions
        from alignlab.store import open_store

        store = open_store(db)
        rows = list_interactions(store, InteractionFilter(limit=10)).total
        feedback = len(list_feedback(store))
        store.close()
    print(f"store: {'PostgreSQL' if args.postgres else 'SQLite'}; {seconds:.1f} s; load {os.getloadavg()[0]:.2f}")
    for kind, counts in sorted(tally.items()):
        print(f"  {kind}: {dict(sorted(counts.items()))}")
    fives = sum(n for kind, c in tally.items() if kind != "hostile" for s, n in c.items() if s.startswith("5"))
    print(f"innocent 5xx: {fives}; rows: {rows} interactions (1 seed + innocent chats), {feedback} feedback")


def _kill_round(db: str, up_url: str, token: str, target: int) -> tuple[set[str], set[str]]:
    port = free_port()
    server = _start(db, up_url, port)
    url = f"http://127.0.0.1:{port}"
    chats: set[str] = set()
    feedback: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = client.post(
                        "/v1/chat/completions",
                        content=_chat(f"w{n} q{i}"),
                        headers={"Content-Type": "application/json"},
                    )
                    if r.status_code != 200:
                        continue
                    cid = r.headers["x-alignlab-interaction-id"]
                    with lock:
                        chats.add(cid)
                    f = client.post("/v1/feedback", json={"kind": "thumbs", "interaction_id": cid, "value": "up"})
                    if f.status_code == 201:
                        with lock:
                            feedback.add(f.json()["id"])
                except httpx.HTTPError:
                    return

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    while len(chats) + len(feedback) < target:
        time.sleep(0.005)
    os.kill(server.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(30)
    server.wait(10)
    return chats, feedback


def kill(args: argparse.Namespace) -> None:
    from alignlab.monitor import InteractionFilter, list_feedback, list_interactions
    from alignlab.store import open_store

    with database(args.postgres) as db, upstream() as up:
        token = _key(db)
        acked_chats: set[str] = set()
        acked_feedback: set[str] = set()
        for _ in range(args.kills):
            chats, feedback = _kill_round(db, up.url, token, args.acked_per_kill)
            acked_chats |= chats
            acked_feedback |= feedback
        store = open_store(db)
        stored_chats = {i.id for i in list_interactions(store, InteractionFilter(limit=10_000)).items}
        stored_feedback = {f.id for f in list_feedback(store)}
        store.close()
    lost = len(acked_chats - stored_chats) + len(acked_feedback - stored_feedback)
    acked = len(acked_chats) + len(acked_feedback)
    print(
        f"store: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.kills} kills; load {os.getloadavg()[0]:.2f}\n"
        f"  acknowledged: {acked} ({len(acked_chats)} completions, {len(acked_feedback)} feedback); lost: {lost}"
    )


async def _invented(url: str, token: str, names: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=64)) as client:
        gate = asyncio.Semaphore(64)

        async def one(i: int) -> None:
            async with gate, client.post(f"{url}/v1/chat/completions", data=_chat("x", model=f"m-{i}")) as r:
                await r.read()

        await asyncio.gather(*(one(i) for i in range(names)))


def metrics(args: argparse.Namespace) -> None:
    with database(False) as db, upstream() as up:
        token = _key(db)
        port = free_port()
        server = _start(db, up.url, port)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(_invented(url, token, args.names))
            start = time.perf_counter()
            body = httpx.get(f"{url}/metrics", timeout=60).content
            seconds = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(15)
    series = sum(1 for line in body.splitlines() if line.startswith(b"alignlab_proxy_requests_total"))
    print(
        f"{args.names} invented model names: /metrics {len(body):,} bytes, {series} request series, "
        f"scrape {seconds * 1000:.0f} ms; load {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("poison")
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--innocent", type=int, default=300)
    k = sub.add_parser("kill")
    k.add_argument("--postgres", action="store_true")
    k.add_argument("--kills", type=int, default=5)
    k.add_argument("--acked-per-kill", type=int, default=400)
    m = sub.add_parser("metrics")
    m.add_argument("--names", type=int, default=5000)
    args = parser.parse_args()
    {"poison": poison, "kill": kill, "metrics": metrics}[args.check](args)


if __name__ == "__main__":
    main()
