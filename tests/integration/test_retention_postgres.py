"""`guichet dossier export|erase` on registers in PostgreSQL (--database-url, one schema per agency),
in a database of the test's own: an open dossier is refused without --force; once erased, no table
of any agency's schema holds the worker's surname, every journal verifies, and the export holds
nothing personal (docs/retention.md; RGPD art. 15 and 17)."""

import json
import uuid

import psycopg
import pytest

from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.register import Register
from schemas.base import AGENCIES
from tests.conftest import dossier
from tests.integration.test_agency_runtime import OFII, START, filing
from tests.integration.test_retention_erasure import guichet

pytestmark = pytest.mark.postgres

SURNAME = "ZYGMUNTOWICZ"


@pytest.fixture
def database_url(postgres_url):
    name = f"rgpd_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def tables_holding(url: str, text: str) -> list[str]:
    """Every table of every agency's schema whose rows, as text, hold `text`."""
    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in AGENCIES:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            ).fetchall()
            for (table,) in tables:
                rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
                if any(text in row[0] for row in rows):
                    found.append(f"{schema}.{table}")
    return found


def test_an_open_dossier_in_postgresql_is_erased_only_when_forced_and_then_nowhere(database_url):
    register = Register.for_agency("ofii", database_url=database_url)
    try:
        agency = Agency(OFII, register, VirtualClock(START), simulate_actors=False)
        assert agency.process(filing(dossier(worker={"surname": SURNAME})).body()).status == "processed"
    finally:
        register.close()
    places = ["--database-url", database_url]
    exported = json.loads(guichet("dossier", "export", "D-1", *places).stdout)
    assert exported["places"] == ["ofii"] and SURNAME in json.dumps(exported)

    # docs/retention.md, "A dossier still open": refused, naming the agency, and nothing erased.
    refused = guichet("dossier", "erase", "D-1", "--reason", "demande n° 17", "--by", "dpo", *places, check=False)
    assert refused.returncode == 2 and "still open" in refused.stderr and "ofii: task" in refused.stderr
    assert "ofii.dossiers" in tables_holding(database_url, SURNAME)

    guichet("dossier", "erase", "D-1", "--reason", "demande n° 17", "--by", "dpo", "--force", *places)
    assert tables_holding(database_url, SURNAME) == []
    verdicts = json.loads(guichet("journal", "verify", *places, "--json").stdout)
    assert verdicts["ofii"]["intact"] and verdicts["ofii"]["records"] == 1, verdicts
    assert all(v["intact"] for v in verdicts.values()), verdicts
    after = json.loads(guichet("dossier", "export", "D-1", *places).stdout)
    assert SURNAME not in json.dumps(after) and after["registers"]["ofii"]["erasure"]["decided_by"] == "dpo"
