"""Store fixtures: every store test runs on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alignlab.store import Store, open_store
from tests.pg import postgres_db_url, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an empty database; the SQLite file's directory does not exist yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'missing' / 'alignlab.db'}"
    url: str = request.getfixturevalue("postgres_db_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    opened = open_store(store_url)
    yield opened
    opened.close()
