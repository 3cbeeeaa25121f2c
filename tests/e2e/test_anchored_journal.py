"""End to end (issue 23, "a journal that proves"): four signed agency processes anchor their journals
and ship the anchors to the supervision service. Someone with write access to an agency's register
edits a record and recomputes the whole chain: the supervision store, which never had that access,
finds it, and `journal verify --key-directory` names the first record no anchor proves any more."""

import json
import subprocess
import threading

import pytest

from guichet.key_directory import KeyDirectory
from guichet_operations.supervision.service import Supervisor, wait_consuming
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.e2e.test_supervision import submit
from tests.integration.test_journal_anchors import rewrite
from tests.integration.test_signed_tools import CHAOS_SIRET, keys_for
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

TIME_SCALE = 400_000
AGENCY = "smoe"


def test_a_rewritten_journal_is_found_by_the_store_and_by_verify(amqp_url, namespace, tmp_path):
    signing = keys_for(tmp_path, CHAOS_SIRET)  # the example dossier's employer
    directory = signing[signing.index("--key-directory") + 1]
    store = Store(f"sqlite:///{tmp_path / 'supervision.sqlite3'}")
    supervisor = Supervisor(store, amqp_url, namespace=namespace, directory=KeyDirectory(directory))
    extra = {agency: signing for agency in AGENCIES}
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE, extra=extra) as bus:
        thread = threading.Thread(target=supervisor.run, daemon=True)
        thread.start()
        assert wait_consuming(supervisor)
        bus = {**bus, "bus": [*bus["bus"], *signing]}  # the filing signed as the employers' portal signs it
        submit(bus, tmp_path, "first", [dossier(id="ANCRE-1")], 1)
        held = wait_until(
            lambda: store.rows(
                "SELECT seq FROM anchors WHERE agency = ? AND signature_status = 'valid' AND chain_status = 'held' "
                "AND seq >= 2",
                AGENCY,
            ),
            90,
            f"{AGENCY}'s anchors, signed and held, in the supervision store",
        )
        wait_until(
            lambda: (
                {r["agency"] for r in store.rows("SELECT agency FROM anchors WHERE signature_status = 'valid'")}
                == set(AGENCIES)
            ),
            90,
            "every agency's journal anchored with its own key",
        )
        anchors_before = [r["seq"] for r in store.rows("SELECT seq FROM anchors WHERE agency = ?", AGENCY)]
        rewrite(bus["data"], 2, agency=AGENCY)  # the edit, chain and head recomputed, while the service runs
        submit(bus, tmp_path, "second", [dossier(id="ANCRE-2")], 1)
        found = wait_until(
            lambda: store.rows("SELECT seq, kind FROM findings WHERE agency = ?", AGENCY),
            90,
            "the store's finding of the rewritten journal",
        )
        supervisor.stop()
        thread.join(timeout=10)
    assert held and found[0]["kind"] == "chain_rewritten" and found[0]["seq"] > 2
    assert supervisor.metrics.registry.get_sample_value(
        "guichet_supervision_journal_findings_total", {"agency": AGENCY}
    ) == len(found)
    verified = subprocess.run(
        guichet("journal", "verify", AGENCY, "--data-dir", str(bus["data"]), "--key-directory", directory, "--json"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    verdict = json.loads(verified.stdout)[AGENCY]
    first_unproven = max([seq for seq in anchors_before if seq < 2], default=0) + 1
    assert verified.returncode == 1 and verdict["broken_record"] == first_unproven, verdict
    assert "no anchor proves" in verdict["problem"] and verdict["signatures_checked"]
    store.close()
