"""The operations view in a real browser (Debian's headless Chromium, driven by selenium): four
agency services on RabbitMQ carry a dossier that goes past a legal deadline, a refused one and an
ordinary one; poison messages land in the error queue. Each page is opened as a person would,
checked for what they see, and kept as a screenshot in the test's folder."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest

from guichet.bus import Bus
from guichet.register_reader import RegisterReader, read_states
from guichet.topology import Topology
from schemas.base import AGENCIES
from services.parties import PARTIES
from tests.browser_support import browser, free_port, screenshot  # noqa: F401 (browser: the fixture)
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services

pytestmark = [pytest.mark.broker, pytest.mark.browser]

TIME_SCALE = 400_000  # a legal day in about 0.2 s


def inter_party_messages(data_dir, dossier_id: str) -> set[str]:
    ids = set()
    for agency in AGENCIES:
        with RegisterReader(agency, data_dir) as reader:
            ids |= {
                r["message_id"]
                for r in reader.rows(
                    "SELECT message_id FROM journal WHERE dossier_id = ? AND sender <> recipient", dossier_id
                )
            }
    return ids


def test_an_operator_sees_breaches_sequences_and_acts_on_the_error_queue(amqp_url, namespace, tmp_path, browser):
    from selenium.webdriver.common.by import By

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE) as bus:
        data = bus["data"]
        scenario = tmp_path / "scenario.json"
        scenario.write_text(
            json.dumps(
                {
                    "dossiers": [
                        dossier(
                            id="LATE-1",
                            title="carte_bleue_europeenne",
                            employment_department="75",
                            residence_department="75",
                            facts={"smoe_instruction_days": 12},
                        ),
                        dossier(id="REFUS-1", facts={"visa_granted": False}),
                        dossier(id="OK-1"),
                    ]
                }
            )
        )
        submitted = subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], *bus["clock"]), capture_output=True, text=True, timeout=60
        )
        assert submitted.returncode == 0, submitted.stderr

        def settled():
            states = read_states("ofii", data)
            return len(states) == 3 and all(s.get("outcome") for s in states.values()) and states

        states = wait_until(settled, 180, "the three dossiers to reach their outcome")
        assert states["REFUS-1"]["outcome"] == "visa_refuse"

        poison = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
        try:
            poison.publish(b"\x01 not json", "ofii.x", {}, "poison-1")
            personal = {
                "message_id": "poison-2",
                "type": "ofii.inconnu",
                "version": 1,
                "dossier_id": "OK-1",
                "payload": {"worker": {"surname": "ZORGLUB", "email": "zorglub@example.org"}},
            }
            poison.publish(
                json.dumps(personal), "ofii.ofii.inconnu", {"type": "ofii.inconnu", "version": 1}, "poison-2"
            )
            wait_until(lambda: poison.depth(f"{namespace}.erreurs") == 2, 60, "two messages in the error queue")
        finally:
            poison.close()

        port = free_port()
        actions_log = tmp_path / "actions.jsonl"
        ops = subprocess.Popen(
            guichet(
                "ops",
                "--data-dir",
                str(data),
                *bus["bus"],
                "--port",
                str(port),
                "--actions-log",
                str(actions_log),
                *bus["clock"],
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return urllib.request.urlopen(base + "/services", timeout=2).status == 200
            except OSError:
                return ops.poll() is not None and pytest.fail(f"guichet ops exited: {ops.stdout.read()}")

        try:
            wait_until(up, 60, "guichet ops to answer")
            page = lambda path: browser.get(base + path)  # noqa: E731
            text = lambda: browser.find_element(By.TAG_NAME, "body").text  # noqa: E731

            # The dossiers: the late one highlighted as breached, the refused one with its outcome.
            page("/")
            late_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-dossier="LATE-1"]')
            assert "breached" in late_row.get_attribute("class") and "BREACHED" in late_row.text
            assert "decision_autorisation_travail" in late_row.text
            assert "visa_refuse" in browser.find_element(By.CSS_SELECTOR, 'tr[data-dossier="REFUS-1"]').text
            assert "breached" not in browser.find_element(By.CSS_SELECTOR, 'tr[data-dossier="OK-1"]').get_attribute(
                "class"
            )
            screenshot(browser, shots / "dossiers.png")
            page("/?state=breached")
            assert [r.get_attribute("data-dossier") for r in browser.find_elements(By.CSS_SELECTOR, "tr.dossier")] == [
                "LATE-1"
            ]

            # The deadlines: the breach alert to the référent, highlighted.
            page("/deadlines")
            breach = browser.find_element(By.CSS_SELECTOR, "tr.alert-row.breach")
            assert "LATE-1" in breach.text and "depassement" in breach.text
            screenshot(browser, shots / "deadlines.png")

            # The sequence: one arrow per message between parties, the late one and the breach marked.
            page("/dossiers/LATE-1")
            arrows = browser.find_elements(By.CSS_SELECTOR, "svg.sequence g.message")
            expected = inter_party_messages(data, "LATE-1")
            assert {a.get_attribute("data-message-id") for a in arrows} == expected and len(arrows) == len(expected)
            late = browser.find_elements(By.CSS_SELECTOR, "svg.sequence g.message.late")
            assert [a.get_attribute("data-type") for a in late] == ["smoe.decision_autorisation_travail"]
            assert browser.find_elements(By.CSS_SELECTOR, "svg.sequence g.alert.breach")
            assert browser.find_element(By.ID, "dossier-summary").is_displayed()
            screenshot(browser, shots / "dossier-late.png")

            # The error queue: grouped, personal data redacted; replay, archive and restore.
            page("/errors")
            groups = {
                g.get_attribute("data-group") for g in browser.find_elements(By.CSS_SELECTOR, "section.error-group")
            }
            assert groups == {
                f"undecodable/undecodable/{namespace}.ofii",
                f"unknown_type/unknown_type/{namespace}.ofii",
            }
            assert "ZORGLUB" not in browser.page_source and "zorglub@example.org" not in browser.page_source
            assert "[REDACTED]" in browser.page_source
            assert "dossier OK-1" in browser.find_element(By.CSS_SELECTOR, 'details[data-id="poison-2"] summary').text
            screenshot(browser, shots / "errors.png")

            undecodable = browser.find_element(
                By.CSS_SELECTOR, f'section[data-group="undecodable/undecodable/{namespace}.ofii"] details.error-message'
            ).get_attribute("data-id")
            assert undecodable == "poison-1", "an undecodable message keeps the id it was published with"
            browser.find_element(By.CSS_SELECTOR, 'details[data-id="poison-2"] summary').click()
            browser.find_element(By.CSS_SELECTOR, 'details[data-id="poison-2"] button.replay').click()
            notice_says(browser, f"replayed 1 message(s) to {namespace}.ofii")

            def failed_again():  # the service took it back and refused it again: it returns with its history
                page("/errors")
                return "replayed 1×" in text()

            wait_until(failed_again, 60, "the replayed message to fail again and come back with its history")

            browser.find_element(By.CSS_SELECTOR, f'details[data-id="{undecodable}"] summary').click()
            browser.find_element(By.CSS_SELECTOR, f'details[data-id="{undecodable}"] button.archive').click()
            notice_says(browser, "archived 1 message(s)")
            assert not browser.find_elements(By.CSS_SELECTOR, f'details.error-message[data-id="{undecodable}"]')
            assert browser.find_elements(By.CSS_SELECTOR, f'div.archived[data-id="{undecodable}"]')
            screenshot(browser, shots / "errors-archived.png")
            browser.find_element(By.CSS_SELECTOR, f'div.archived[data-id="{undecodable}"] button.restore').click()
            notice_says(browser, "restored 1 message(s)")
            assert browser.find_elements(By.CSS_SELECTOR, f'details.error-message[data-id="{undecodable}"]')
            assert not browser.find_elements(By.CSS_SELECTOR, "div.archived")

            journal = [json.loads(line) for line in actions_log.read_text().splitlines()]
            assert [(j["action"], j["ids"]) for j in journal] == [
                ("replay", ["poison-2"]),
                ("archive", [undecodable]),
                ("restore", [undecodable]),
            ]

            # The services: every agency's loop beats.
            page("/services")
            for agency in AGENCIES:
                assert "alive" in browser.find_element(By.CSS_SELECTOR, f'tr[data-agency="{agency}"]').text
            screenshot(browser, shots / "services.png")
        finally:
            ops.terminate()
            ops.wait(timeout=15)


def notice_says(browser, expected: str) -> None:
    """After an action the page reloads with a notice: wait for the one that says `expected`."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def shown():
        try:
            return any(expected in e.text for e in browser.find_elements(By.CSS_SELECTOR, ".notice"))
        except StaleElementReferenceException:  # the page was being replaced
            return False

    wait_until(shown, 30, f"the notice {expected!r}")
