"""Migrations 0103–0105: the service tables exist and downgrade cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from alignlab.store import Store
from alignlab.store.db import _alembic_config


def test_service_tables_and_downgrade(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"interactions", "feedback", "api_keys", "alerts", "monitor_state"} <= tables
    columns = {c["name"] for c in inspect(store.engine).get_columns("interactions")}
    assert {"request", "response", "model", "latency_ms", "prompt_tokens", "completion_tokens", "scores"} <= columns
    assert "ui_sessions" in tables
    assert "state" in {c["name"] for c in inspect(store.engine).get_columns("alerts")}
    config = _alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0104")
    assert "ui_sessions" not in inspect(store.engine).get_table_names()
    assert "state" not in {c["name"] for c in inspect(store.engine).get_columns("alerts")}
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0103")
    assert {"interactions", "alerts"} <= set(inspect(store.engine).get_table_names())
    assert "monitor_state" not in inspect(store.engine).get_table_names()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert "interactions" not in inspect(store.engine).get_table_names()
