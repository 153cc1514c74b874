"""Open the store: build the engine, migrate it to head, hand out sessions.

Nothing connects at import time. :func:`open_store` is the one entry point; it turns every
"database not there" failure into a one-line :class:`~alignlab.errors.StoreError` that
never shows the password in the URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alignlab.errors import StoreError

__all__ = ["MIGRATIONS_DIR", "Store", "current_revision", "open_store"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_TIMEOUT_S = 30
POSTGRES_CONNECT_TIMEOUT_S = 10


class Store:
    """An opened database: its engine and a session factory.

    Attributes:
        url: The SQLAlchemy URL in use (``postgresql://`` rewritten to psycopg 3).
        engine: The SQLAlchemy engine.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    def session(self) -> Session:
        """Return a new session; use it as ``with store.session() as s:``."""
        return self._sessions()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Connect to the database at ``url`` and, by default, migrate it to the latest schema.

    Args:
        url: A SQLAlchemy URL, e.g. ``sqlite:///path/alignlab.db`` or
            ``postgresql+psycopg://user@host:5432/db``. A plain ``postgresql://`` URL
            uses psycopg 3. The parent directory of a SQLite file is created.
        migrate: Run ``alembic upgrade head`` (idempotent).

    Returns:
        The opened store.

    Raises:
        StoreError: The URL is invalid, the database is unreachable, or migration failed.
    """
    parsed = _parse_url(url)
    masked = parsed.render_as_string(hide_password=True)
    _make_sqlite_parent(parsed)
    engine = _create_engine(parsed, masked)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot reach database {masked}: {_reason(exc, parsed)}") from exc
    if migrate:
        try:
            _upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot migrate database {masked}: {_reason(exc, parsed)}") from exc
    return Store(parsed.render_as_string(hide_password=False), engine)


def current_revision(store: Store) -> str | None:
    """Return the Alembic revision the database is at, or ``None`` if never migrated."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The message would echo the URL, password included.
        raise StoreError(
            "invalid database URL; expected e.g. sqlite:///path/alignlab.db or postgresql+psycopg://user@host:5432/db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _make_sqlite_parent(url: URL) -> None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    parent = Path(database).expanduser().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create directory {parent}: {exc.strerror}") from exc


def _create_engine(url: URL, masked: str) -> Engine:
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        connect_args["timeout"] = SQLITE_TIMEOUT_S
    elif backend == "postgresql":
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    try:
        # hide_parameters: a failed statement's message must not quote the rows (prompts, answers).
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"unsupported database URL {masked}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the web UI read while an evaluation writes; SQLite leaves FKs off by default.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _alembic_config() -> Config:
    config = Config()
    # Config values go through configparser interpolation, where "%" is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _upgrade(engine: Engine) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _reason(exc: SQLAlchemyError, url: URL) -> str:
    """The first line of the driver's message, with the password masked."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    if url.password:
        line = line.replace(str(url.password), "***")
    return line
