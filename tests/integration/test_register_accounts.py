"""On PostgreSQL each agency may have an account of its own that owns its schema and nothing else
(docker-compose.yml's register-setup grants no more): such an account opens its register and shows
its dossiers, and cannot reach another agency's schema."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

pytestmark = pytest.mark.postgres

SERVER = os.environ.get("GUICHET_TEST_DATABASE", "postgresql://postgres@127.0.0.1:5432/postgres")


def guichet(*args):
    """The `guichet` console script installed next to this Python."""
    command = [str(Path(sys.executable).parent / "guichet"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def agency_database():
    """A database where `ofii` and `smoe` schemas belong to two accounts without CREATE on the database."""
    try:
        admin = psycopg.connect(SERVER, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {SERVER}: {exc}")
    tag = uuid.uuid4().hex[:8]
    name, ofii, smoe = f"guichet_accounts_{tag}", f"ofii_{tag}", f"smoe_{tag}"
    admin.execute(f'CREATE DATABASE "{name}"')
    for role in (ofii, smoe):
        admin.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{tag}'")
    db_url = urlunsplit(urlsplit(SERVER)._replace(path=f"/{name}"))
    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        db.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for role, schema in ((ofii, "ofii"), (smoe, "smoe")):
            db.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"')
            db.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"')
    parts = urlsplit(SERVER)

    def url(role):
        return urlunsplit(parts._replace(netloc=f"{role}:{tag}@{parts.hostname}:{parts.port or 5432}", path=f"/{name}"))

    try:
        yield {"ofii": url(ofii), "smoe": url(smoe)}
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        for role in (ofii, smoe):
            admin.execute(f'DROP ROLE "{role}"')
        admin.close()


def test_the_ofii_account_opens_its_register_and_shows_its_dossiers(agency_database):
    shown = guichet("dossier", "show", "D-404", "--json", "--database-url", agency_database["ofii"])
    # The register opened (its tables created in the account's own schema): the dossier is simply not there.
    assert shown.returncode == 2, shown.stderr
    assert "dossier 'D-404' is not in the DT-OFII's register" in shown.stderr
    with psycopg.connect(agency_database["ofii"]) as conn:
        assert conn.execute("SELECT count(*) FROM ofii.dossiers").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM smoe.dossiers")
