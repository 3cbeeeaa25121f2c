"""`guichet conformance`: the Python agencies, started alone as processes, pass the kit signed and
unsigned; a connector that does not answer fails it, naming the dossier and what it waited for."""

import json
import subprocess
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from guichet_simulation.launcher import ServiceProcesses
from tests.conftest import delete_namespace
from tests.integration.test_signed_messages import make_keys
from tests.services import guichet

pytestmark = pytest.mark.broker

TIME_SCALE = 200_000  # a legal day in about 0.4 s: the longest dossier, two months, in about 30 s


@contextmanager
def connector(amqp_url, namespace, tmp_path, agency, options=()):
    """The agency under test alone, as its operator would start it, on the clock the kit is given."""
    origin = datetime.now(UTC)
    service = ServiceProcesses(
        amqp_url, namespace, tmp_path / "connector", TIME_SCALE, origin, agencies=(agency,), options=list(options)
    )
    try:
        service.start_all()
        yield ["--time-scale", repr(float(TIME_SCALE)), "--clock-origin", origin.isoformat()]
    finally:
        service.stop_all()
        delete_namespace(amqp_url, namespace)


def conformance(amqp_url, namespace, agency, clock, *options, timeout=240):
    return subprocess.run(
        guichet("conformance", agency, "--broker", amqp_url, "--namespace", namespace, *clock, *options),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_python_consulate_passes_unsigned(amqp_url, namespace, tmp_path):
    with connector(amqp_url, namespace, tmp_path, "consulat") as clock:
        done = conformance(amqp_url, namespace, "consulat", clock, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["passed"] and verdict["agency"] == "consulat"
    names = [c["name"] for c in verdict["checks"]]
    assert all(c["status"] in ("ok", "skipped") for c in verdict["checks"]), verdict["checks"]
    assert "redelivery absorbed" in names and "schema-violating message refused" in names
    assert {d["case"] for d in verdict["dossiers"]} >= {"competences-talents", "visa-refuse", "mission-famille"}


def test_the_python_consulate_passes_signed(amqp_url, namespace, tmp_path):
    directory, keys = make_keys(tmp_path, ("ofii", "smoe", "consulat", "prefecture", "employeur", "travailleur"))
    signing = ["--key-directory", str(directory), "--keys-dir", str(keys)]
    with connector(amqp_url, namespace, tmp_path, "consulat", [*signing, "--require-signatures"]) as clock:
        done = conformance(amqp_url, namespace, "consulat", clock, *signing)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      signatures valid" in done.stdout
    assert "ok      badly signed message refused" in done.stdout
    assert "CONFORMS" in done.stdout


def test_the_python_smoe_passes(amqp_url, namespace, tmp_path):
    with connector(amqp_url, namespace, tmp_path, "smoe") as clock:
        done = conformance(amqp_url, namespace, "smoe", clock)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      dossier CONF-" in done.stdout and "autorisation-refusee" in done.stdout
    assert "smoe on " in done.stdout and "CONFORMS" in done.stdout


def test_a_consulate_that_never_answers_fails_naming_the_dossier_and_the_step(amqp_url, namespace):
    # No consulate at all: its queue, declared by the kit, takes what the DT-OFII sends and nobody answers.
    clock = ["--time-scale", repr(float(TIME_SCALE)), "--clock-origin", datetime.now(UTC).isoformat()]
    try:
        done = conformance(amqp_url, namespace, "consulat", clock, "--timeout", "3")
    finally:
        delete_namespace(amqp_url, namespace)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED  dossier CONF-" in done.stdout and "mission-famille" in done.stdout
    assert "timed out waiting for step decision_visa (consulat -> ofii)" in done.stdout
    # Nobody refused the kit's schema-violating message either: the error queue never saw it.
    assert "FAILED  schema-violating message refused: message" in done.stdout
    assert "DOES NOT CONFORM" in done.stdout


def test_usage_errors_exit_2(amqp_url, namespace):
    done = subprocess.run(
        guichet("conformance", "consulat", "--broker", "memory://", "--namespace", namespace),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "amqp://" in done.stderr
