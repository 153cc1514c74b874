"""The store on SQLite and PostgreSQL: migrations, run records, lookups, failures."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from alignlab.errors import InputError, StoreError
from alignlab.store import (
    Store,
    current_revision,
    finish_run,
    get_run,
    list_runs,
    open_store,
    start_run,
)


def _head() -> str:
    # Every feature adds its own migration; the store must end at whatever the head is.
    from alembic.script import ScriptDirectory

    from alignlab.store.db import _alembic_config

    return str(ScriptDirectory.from_config(_alembic_config()).get_current_head())


def test_migrations_reach_head(store: Store) -> None:
    assert current_revision(store) == _head()
    tables = set(inspect(store.engine).get_table_names())
    assert {"runs", "alembic_version"} <= tables


def test_open_without_migrate_leaves_schema_alone(store_url: str) -> None:
    store = open_store(store_url, migrate=False)
    try:
        assert current_revision(store) is None
        assert "runs" not in inspect(store.engine).get_table_names()
    finally:
        store.close()


def test_reopen_is_idempotent_and_keeps_data(store_url: str) -> None:
    first = open_store(store_url)
    run = start_run(first, suite="honesty", model="tiny", dataset="d")
    first.close()
    second = open_store(store_url)
    try:
        assert current_revision(second) == _head()
        assert get_run(second, run.id).id == run.id
    finally:
        second.close()


def test_start_finish_get_round_trip(store: Store) -> None:
    started = start_run(
        store,
        suite="honesty",
        model="tiny-gpt2",
        dataset="truthfulqa",
        seed=7,
        sample_limit=20,
        config={"temperature": 0.0, "judges": ["a", "b"]},
    )
    assert started.status == "started"
    assert started.finished_at is None
    assert started.started_at.tzinfo is not None
    assert started.started_at.utcoffset() == UTC.utcoffset(None)
    assert len(started.id) == 32

    metrics = {"accuracy": 0.75, "per_category": {"health": {"n": 4, "accuracy": 0.5}}}
    finished = finish_run(
        store,
        started.id,
        status="success",
        n_samples=20,
        metrics=metrics,
        log_path="/logs/x.eval",
    )
    assert finished.status == "success"
    assert finished.finished_at is not None
    assert finished.finished_at >= finished.started_at

    fetched = get_run(store, started.id)
    assert fetched == finished
    assert fetched.metrics == metrics
    assert fetched.config == {"temperature": 0.0, "judges": ["a", "b"]}
    assert (fetched.seed, fetched.sample_limit, fetched.n_samples) == (7, 20, 20)
    assert fetched.log_path == "/logs/x.eval"
    assert fetched.started_at == started.started_at


def test_finish_with_error_keeps_message(store: Store) -> None:
    run = start_run(store, suite="s", model="m", dataset="d", log_path="/logs/early.eval")
    finish_run(store, run.id, status="error", n_samples=3, metrics={}, error="model crashed")
    fetched = get_run(store, run.id)
    assert (fetched.status, fetched.error) == ("error", "model crashed")
    assert fetched.log_path == "/logs/early.eval"


def test_finish_unknown_run_raises(store: Store) -> None:
    with pytest.raises(InputError, match="no run"):
        finish_run(store, "0" * 32, status="success", n_samples=0, metrics={})


def test_get_run_by_unique_prefix(store: Store) -> None:
    run = start_run(store, suite="s", model="m", dataset="d")
    assert get_run(store, run.id[:12]).id == run.id
    assert get_run(store, run.id[:12].upper()).id == run.id


def test_get_run_ambiguous_prefix(store: Store) -> None:
    # 17 hex ids: by pigeonhole two share their first character.
    ids = [start_run(store, suite="s", model="m", dataset="d").id for _ in range(17)]
    first_chars = [run_id[0] for run_id in ids]
    shared = next(c for c in first_chars if first_chars.count(c) > 1)
    with pytest.raises(InputError, match="ambiguous"):
        get_run(store, shared)


@pytest.mark.parametrize("prefix", ["zzzz", "%", "_", ""])
def test_get_run_no_match(store: Store, prefix: str) -> None:
    start_run(store, suite="s", model="m", dataset="d")
    with pytest.raises(InputError):
        get_run(store, prefix)


def test_list_runs_newest_first_and_filtered(store: Store) -> None:
    specs = [("honesty", "a"), ("harm", "a"), ("honesty", "b"), ("honesty", "a")]
    ids = [start_run(store, suite=s, model=m, dataset="d").id for s, m in specs]

    assert [r.id for r in list_runs(store)] == ids[::-1]
    assert [r.id for r in list_runs(store, suite="honesty")] == [ids[3], ids[2], ids[0]]
    assert [r.id for r in list_runs(store, suite="honesty", model="a")] == [
        ids[3],
        ids[0],
    ]
    assert [r.id for r in list_runs(store, limit=2)] == [ids[3], ids[2]]
    assert list_runs(store, model="nobody") == []


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "dir" / "alignlab.db"
    store = open_store(f"sqlite:///{db}")
    try:
        assert db.exists()
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:secret@127.0.0.1:1/x",
        "postgresql://u:secret@127.0.0.1:1/x",
    ],
)
def test_unreachable_database_is_one_clean_line(url: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert message.startswith("cannot reach database postgresql+psycopg://u:***@127.0.0.1:1/x: ")
    assert "secret" not in message
    assert "\n" not in message


def test_invalid_url_does_not_echo_it() -> None:
    with pytest.raises(StoreError, match="invalid database URL") as info:
        open_store("not a url secret")
    assert "secret" not in str(info.value)
