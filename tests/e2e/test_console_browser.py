"""The supervision console in a real browser (Debian's headless Chromium, driven by selenium), as an
operator uses it (issue 22): four agency services on RabbitMQ ship their audit copies, poison
messages land in the error queue, `guichet supervise` takes both into its store and serves the
console. A page without a session goes to sign-in; the operator signs in through a real OpenID
Connect provider (oidc-provider), searches, opens a dossier, replays one failure and archives
another, and finds both actions journaled under her name. Screenshots are kept in the test's folder."""

from __future__ import annotations

import json
import subprocess

import pytest

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_operations.supervision.store import Store
from services.parties import PARTIES
from tests.browser_support import browser, free_port, screenshot  # noqa: F401 (browser: the fixture)
from tests.conftest import dossier, wait_until
from tests.oidc_provider import running_provider
from tests.services import guichet, running_services

pytestmark = [pytest.mark.broker, pytest.mark.browser]

TIME_SCALE = 400_000


def submit(bus, tmp_path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps({"dossiers": [dossier(id="VU-1"), dossier(id="VU-2", facts={"visa_granted": False})]})
    )
    done = subprocess.run(
        guichet("submit", str(scenario), *bus["bus"], *bus["clock"]), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def poison(amqp_url: str, namespace: str) -> None:
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    try:
        bus.publish(b"\x01 not json", "ofii.x", {}, "poison-1")
        personal = {"message_id": "poison-2", "type": "ofii.inconnu", "version": 1, "dossier_id": "VU-1",
                    "payload": {"worker": {"surname": "ZORGLUB", "email": "zorglub@example.org"}}}  # fmt: skip
        bus.publish(json.dumps(personal), "ofii.ofii.inconnu", {"type": "ofii.inconnu", "version": 1}, "poison-2")
    finally:
        bus.close()


def test_an_operator_signs_in_through_oidc_searches_and_acts_on_the_error_queue(amqp_url, namespace, tmp_path, browser):
    from selenium.webdriver.common.by import By

    shots = tmp_path / "screenshots"
    shots.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store_url = f"sqlite:///{tmp_path / 'supervision.sqlite3'}"
    with (
        running_services(amqp_url, namespace, tmp_path, TIME_SCALE) as bus,
        running_provider(f"{base}/connexion/oidc/retour") as provider,
    ):
        secret = tmp_path / "client-secret"
        secret.write_text(provider.client_secret)
        supervise = subprocess.Popen(
            guichet(
                "supervise",
                "--store",
                store_url,
                *bus["bus"],
                "--port",
                str(port),
                "--public-url",
                f"{base}/",
                "--oidc-issuer",
                provider.issuer,
                "--oidc-client-id",
                provider.client_id,
                "--oidc-client-secret-file",
                str(secret),
            ),  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        store = Store(store_url)
        try:
            submit(bus, tmp_path)
            poison(amqp_url, namespace)

            def taken():
                rows = store.rows("SELECT dossier_id, outcome FROM dossiers")
                failures = store.rows("SELECT message_id FROM failures")
                return {r["dossier_id"] for r in rows if r["outcome"] != "en_cours"} >= {"VU-1", "VU-2"} and len(
                    failures
                ) == 2

            wait_until(taken, 180, "both dossiers settled and both failures in the supervision store")

            # No session: the console sends the browser to sign in, and back to the page afterwards.
            browser.get(f"{base}/erreurs")
            assert browser.current_url.startswith(f"{base}/connexion"), browser.current_url
            screenshot(browser, shots / "connexion.png")
            browser.find_element(By.CSS_SELECTOR, "a[href^='/connexion/oidc']").click()

            def back_at_console() -> bool:  # the provider's login and consent forms, as the person fills them
                if browser.current_url.startswith(base) and "/connexion" not in browser.current_url:
                    return True
                logins = browser.find_elements(By.NAME, "login")
                if logins:
                    logins[0].send_keys("camille")
                    browser.find_element(By.NAME, "password").send_keys("nimporte")
                buttons = browser.find_elements(By.CSS_SELECTOR, "button[type=submit], button")
                if buttons:
                    buttons[0].click()
                return False

            wait_until(back_at_console, 60, "the provider to send the person back to the console")
            assert browser.current_url == f"{base}/erreurs"
            assert "Camille Martin" in browser.find_element(By.TAG_NAME, "header").text

            # Search, then the dossier's page.
            browser.get(f"{base}/")
            box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
            box.send_keys("VU-1")
            box.submit()
            wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-dossier="VU-1"]'), 20, "VU-1 found")
            assert not browser.find_elements(By.CSS_SELECTOR, '[data-dossier="VU-2"]')
            browser.find_element(By.CSS_SELECTOR, 'a[href="/dossiers/VU-1"]').click()
            wait_until(lambda: "VU-1" in browser.find_element(By.TAG_NAME, "h1").text, 20, "the dossier's page")
            assert browser.find_elements(By.CSS_SELECTOR, "svg.sequence")
            # An operator has the role agent's sight: the worker's name and nationality, in French.
            worker = browser.find_element(By.CSS_SELECTOR, "section.personal").text
            assert "DOE" in worker and "nationalité" in worker and "IND" in worker
            screenshot(browser, shots / "dossier.png")

            # The error queue: redacted; replay one, archive the other, each confirmed first.
            browser.get(f"{base}/erreurs")
            assert "ZORGLUB" not in browser.page_source and "zorglub@example.org" not in browser.page_source
            ids = {r["message_id"]: r["id"] for r in store.rows("SELECT id, message_id FROM failures")}

            def act(failure_id: int, action: str) -> None:
                browser.get(f"{base}/erreurs")
                browser.find_element(By.CSS_SELECTOR, f'input[name=id][value="{failure_id}"]').click()
                browser.find_element(By.CSS_SELECTOR, f'button[name=action][value="{action}"]').click()
                wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "button.confirm"), 20, "the confirmation")
                browser.find_element(By.CSS_SELECTOR, "button.confirm").click()
                wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".notice"), 20, "the notice after the action")
                assert "1 message(s)" in browser.find_element(By.CSS_SELECTOR, ".notice").text

            act(ids["poison-2"], "replay")
            act(ids["poison-1"], "archive")
            screenshot(browser, shots / "erreurs.png")
            # Replayed, the message went back to the DT-OFII, which refused it again: a new failure in the store.
            wait_until(lambda: len(store.rows("SELECT id FROM failures WHERE message_id = 'poison-2'")) == 2, 60,
                       "the replayed message back in the store after failing again")  # fmt: skip
            statuses = {r["id"]: r["status"] for r in store.rows("SELECT id, status FROM failures")}
            assert statuses[ids["poison-2"]] == "rejoue" and statuses[ids["poison-1"]] == "archive"

            browser.get(f"{base}/journal")
            journal = browser.find_element(By.TAG_NAME, "main").text
            assert "Camille Martin" in journal and "opérateur" in journal
            assert "rejeu de messages en erreur" in journal and "archivage de messages en erreur" in journal
            screenshot(browser, shots / "journal.png")
            done = store.rows("SELECT person, action FROM actions WHERE action LIKE 'failures.%' ORDER BY id")
            assert done == [{"person": "oidc:camille", "action": "failures.replay"},
                            {"person": "oidc:camille", "action": "failures.archive"}]  # fmt: skip
        finally:
            store.close()
            supervise.terminate()
            try:
                supervise.wait(timeout=20)
            except subprocess.TimeoutExpired:
                supervise.kill()
