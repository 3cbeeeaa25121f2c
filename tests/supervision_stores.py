"""A supervision store on each dialect, for the tests that must hold on both: SQLite in a file of the
test's, PostgreSQL in a schema of its own, dropped afterwards."""

import uuid

import pytest

from guichet_operations.supervision.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        made = Store(f"sqlite:///{tmp_path / 'supervision.sqlite3'}")
    else:
        schema = f"sup_{uuid.uuid4().hex[:10]}"
        made = Store(request.getfixturevalue("postgres_url"), schema=schema)
    yield made
    if request.param == "postgresql":
        with made.transaction() as tx:
            tx.execute(f'DROP SCHEMA "{schema}" CASCADE')
    made.close()
