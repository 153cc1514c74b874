"""SIGKILL the server under load: every acknowledged event must be in the store (SQLite WAL and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from alignlab.monitor import create_key, list_feedback
from alignlab.monitor.interactions import InteractionFilter, list_interactions
from alignlab.store import open_store
from tests.web.conftest import BOTH_DBS
from tests.web.fake_upstream import free_port

SERVE = "import sys; from alignlab.cli.main import main; sys.argv[0] = 'alignlab'; main()"


@BOTH_DBS
def test_sigkill_under_load_loses_no_acknowledged_event(upstream_url: str, db_url: str, tmp_path: Path) -> None:
    db = db_url
    store = open_store(db)
    token = create_key(store, role="annotator").token
    store.close()
    port = free_port()
    env = {
        **os.environ,
        "ALIGNLAB_DATABASE_URL": db,
        "ALIGNLAB_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--upstream", upstream_url, "--no-monitor"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        first = httpx.post(
            f"{base}/v1/chat/completions",
            headers=headers,
            json={"model": "echo", "messages": [{"role": "user", "content": "seed"}]},
        )
        interaction = first.headers["x-alignlab-interaction-id"]
        acked_feedback: list[str] = []
        acked_chats: list[str] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
                for i in range(50):
                    try:
                        if i % 2:
                            r = client.post(
                                "/v1/feedback",
                                json={"kind": "score", "interaction_id": interaction, "score": 1 + i % 10},
                            )
                            if r.status_code == 201:
                                with lock:
                                    acked_feedback.append(r.json()["id"])
                        else:
                            r = client.post(
                                "/v1/chat/completions",
                                json={"model": "echo", "messages": [{"role": "user", "content": f"load {n} {i}"}]},
                            )
                            if r.status_code == 200:
                                with lock:
                                    acked_chats.append(r.headers["x-alignlab-interaction-id"])
                    except httpx.TransportError:
                        return

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(acked_feedback) + len(acked_chats) < 80:
            time.sleep(0.005)
        os.kill(server.pid, signal.SIGKILL)
        for t in threads:
            t.join(30)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
    assert server.returncode == -signal.SIGKILL
    store = open_store(db)
    if db.startswith("sqlite"):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    stored_feedback = {f.id for f in list_feedback(store)}
    stored_chats = {i.id for i in list_interactions(store, InteractionFilter(limit=1000)).items}
    store.close()
    acked = len(acked_feedback) + len(acked_chats)
    assert 80 <= acked < 200  # the kill landed mid-load
    assert set(acked_feedback) <= stored_feedback
    assert set(acked_chats) <= stored_chats
    print(
        f"durability ({db.split(':')[0]}): {acked} acknowledged "
        f"({len(acked_feedback)} feedback, {len(acked_chats)} chats), "
        f"all in the store; {len(stored_feedback) + len(stored_chats) - 1 - acked} more rows committed unacked"
    )
