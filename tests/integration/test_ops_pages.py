"""The operations view's pages over the registers of the example scenario (the embedded default,
no broker), requested in-process through starlette's test client."""

from __future__ import annotations

import re
from datetime import UTC
from importlib import resources

import pytest
from starlette.testclient import TestClient

from guichet.register_reader import RegisterReader
from guichet_operations.view.actions import ActionLog
from guichet_operations.view.app import OpsConfig, create_app
from guichet_operations.view.registers import Registers
from guichet_simulation.harness import Simulation
from schemas.base import AGENCIES
from services.scenario import load_scenario
from tests.conftest import DIRECTORY


@pytest.fixture(scope="module")
def example_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("example")
    Simulation(
        load_scenario(resources.files("guichet_simulation") / "examples" / "guichet-unique.json", DIRECTORY),
        data_dir=data,
    ).run()
    return data


@pytest.fixture
def client(example_data, tmp_path):
    config = OpsConfig(registers=Registers(example_data), actions=ActionLog(tmp_path / "actions.jsonl"))
    return TestClient(create_app(config))


def test_the_dossiers_page_lists_the_example_and_highlights_the_breach(client):
    page = client.get("/").text
    for dossier_id in ("EX-MISSION-92", "EX-CARTE-BLEUE-75"):
        assert f'data-dossier="{dossier_id}"' in page
    late = re.search(r'<tr class="dossier ([^"]*)" data-dossier="EX-CARTE-BLEUE-75"', page).group(1)
    assert "breached" in late
    mission = re.search(r'<tr class="dossier ([^"]*)" data-dossier="EX-MISSION-92"', page).group(1)
    assert "breached" not in mission
    breached = client.get("/?state=breached").text
    assert re.findall(r'data-dossier="([^"]+)"', breached) == ["EX-CARTE-BLEUE-75"]
    assert "/static/ops.css" in page and client.get("/static/ops.css").status_code == 200
    assert "http://" not in page and "https://" not in page, "nothing loaded from elsewhere"


def test_a_dossier_page_draws_its_sequence_as_svg(client, example_data):
    page = client.get("/dossiers/EX-MISSION-92")
    assert page.status_code == 200
    drawn = set(re.findall(r'<g class="message[^"]*" data-message-id="([^"]+)"', page.text))
    journalled = set()
    for agency in AGENCIES:
        with RegisterReader(agency, example_data) as reader:
            journalled |= {
                r["message_id"]
                for r in reader.rows(
                    "SELECT message_id FROM journal WHERE dossier_id = 'EX-MISSION-92' AND sender <> recipient"
                )
            }
    assert drawn == journalled and len(drawn) > 5
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="sequence"' in page.text
    assert 'id="dossier-summary"' in page.text and "titre_remis" in page.text
    assert "Issue :" in page.text and "Étape" in page.text, "the French summary an agent reads"
    assert client.get("/dossiers/NOWHERE").status_code == 404


def test_the_error_page_says_a_broker_is_needed_when_none_is_given(client):
    page = client.get("/errors")
    assert page.status_code == 200 and "No broker given" in page.text
    assert client.post("/errors/replay", data={"token": "forged"}).status_code == 403


def test_the_deadlines_and_services_pages_answer(client):
    deadlines = client.get("/deadlines").text
    assert re.search(r'<tr class="alert-row breach">.*?EX-CARTE-BLEUE-75.*?depassement', deadlines, re.S)
    services = client.get("/services").text
    assert services.count('class="service"') == 4 and "no heartbeat" in services


def test_the_services_page_shows_a_service_s_readiness_and_metrics_when_its_address_is_given(example_data, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Service(BaseHTTPRequestHandler):
        def do_GET(self):
            status, text = {
                "/readyz": (503, "broker: unreachable"),
                "/metrics": (200, "# HELP x\nguichet_messages_total 42\n"),
            }.get(self.path, (404, ""))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        config = OpsConfig(
            registers=Registers(example_data), actions=ActionLog(tmp_path / "a.jsonl"), services={"smoe": url}
        )
        page = TestClient(create_app(config)).get("/services").text
        smoe = re.search(r'data-agency="smoe">(.*?)</tr>', page, re.S).group(1)
        assert "503" in smoe and "broker: unreachable" in smoe and "guichet_messages_total 42" in smoe
        assert "# HELP" not in smoe
        ofii = re.search(r'data-agency="ofii">(.*?)</tr>', page, re.S).group(1)
        assert "no URL given" in ofii
    finally:
        server.shutdown()


def test_the_deadlines_page_puts_breaches_then_warnings_first(tmp_path):
    from datetime import datetime, timedelta

    from guichet.register import Register

    now = datetime.now(UTC)
    for agency, rows in {"smoe": [("ON-TIME", 1, 9), ("BREACH", 11, -1)], "consulat": [("WARN", 14, 0.5)]}.items():
        register = Register.for_agency(agency, tmp_path)
        with register.transaction() as tx:
            for dossier_id, days_open, days_left in rows:
                tx.open_task(
                    dossier_id, "instruction", now - timedelta(days=days_open), now + timedelta(days=days_left)
                )
        register.close()
    config = OpsConfig(registers=Registers(tmp_path), actions=ActionLog(tmp_path / "a.jsonl"))
    page = TestClient(create_app(config)).get("/deadlines").text
    rows = re.findall(r'<tr class="task status-(\w+)" data-dossier="([^"]+)"', page)
    assert rows == [("breach", "BREACH"), ("warning", "WARN"), ("ok", "ON-TIME")]
    assert "BREACH</span>" in page and "over" in page and "left" in page
