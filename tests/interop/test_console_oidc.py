"""Signing in to the console through a real OpenID Connect provider (oidc-provider, started by the
test): the code flow with PKCE goes to the provider's login form and back, the ID token is checked and
the person comes in with the role its `guichet_role` claim names; an answer whose state or issuer is
not the one expected, and a person the claim gives no role, are refused with a French page, and the
refusal is journaled (issue 22, "people logged in, with roles")."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from guichet_operations.supervision.store import Store
from tests.console_auth_app import Clock, OidcConfig, config, tiny_app
from tests.interop.conftest import CONSOLE_BASE


class FirstForm(HTMLParser):
    """The first form of a page: where it posts and its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
        elif tag in ("input", "button") and self.action is not None and not self.done and attrs.get("name"):
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.done = True


def through_provider(start: str, login: str) -> str:
    """Play the person at the provider, from the authorization URL to the redirection back to the console:
    follow the provider's redirections, fill in its login form, accept its consent form."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(start)
        for _ in range(12):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(CONSOLE_BASE + "/"):
                    return target
                response = browser.get(target)
                continue
            assert response.status_code == 200, response.text
            form = FirstForm()
            form.feed(response.text)
            assert form.action is not None, response.text
            fields = form.fields | ({"login": login, "password": "nimporte"} if "login" in form.fields else {})
            response = browser.post(urljoin(str(response.url), form.action), data=fields)
    pytest.fail("the provider never sent the person back to the console")


@pytest.fixture
def store(tmp_path):
    made = Store(f"sqlite:///{tmp_path / 'supervision.sqlite3'}")
    yield made
    made.close()


@pytest.fixture
def console(store, oidc_provider):
    oidc = OidcConfig(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.client_secret, CONSOLE_BASE)
    with TestClient(tiny_app(store, config(Clock(), oidc=oidc)), base_url=CONSOLE_BASE, follow_redirects=False) as c:
        yield c


def start(console, suite: str = "/") -> str:
    begun = console.get("/connexion/oidc", params={"suite": suite})
    assert begun.status_code == 303, begun.text
    asked = parse_qs(urlsplit(begun.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"] and asked["nonce"]
    assert asked["state"] and asked["redirect_uri"] == [f"{CONSOLE_BASE}/connexion/oidc/retour"]
    return begun.headers["location"]


def local(url: str) -> str:
    return url.removeprefix(CONSOLE_BASE)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


def journaled(store):
    return [(r["action"], r["person"], r["role"], json.loads(r["detail"])) for r in store.rows(
        "SELECT action, person, role, detail FROM actions ORDER BY id")]  # fmt: skip


def test_a_person_signs_in_through_the_provider_with_the_role_of_the_claim(console, store, oidc_provider):
    back = through_provider(start(console, suite="/agir"), "camille")
    assert parse_qs(urlsplit(back).query)["iss"] == [oidc_provider.issuer]  # RFC 9207: the provider names itself
    signed = console.get(local(back))
    assert signed.status_code == 303 and signed.headers["location"] == "/agir"
    assert console.get("/").text.startswith("Bonjour Camille Martin (operateur, oidc:camille)")
    assert console.get("/agir").text == "fait"  # operateur's page
    assert journaled(store) == [("connexion", "oidc:camille", "operateur", {"name": "Camille Martin", "via": "oidc"})]


def test_an_answer_with_another_state_is_refused_and_the_right_one_is_not_taken_after_it(console, store):
    back = through_provider(start(console), "camille")
    refused = console.get(with_query(local(back), state="un-autre-etat"))
    assert refused.status_code == 403 and "ne correspond à aucune connexion en cours" in refused.text
    assert console.get(local(back)).status_code == 403  # the attempt is spent
    assert console.get("/").status_code == 303
    assert [a for a, *_ in journaled(store)] == ["connexion.refus", "connexion.refus"]


def test_an_answer_naming_another_issuer_is_refused(console):
    back = through_provider(start(console), "camille")
    refused = console.get(with_query(local(back), iss="http://127.0.0.1:1"))
    assert refused.status_code == 403 and "ne correspond" in refused.text
    assert console.get("/").status_code == 303


def test_a_person_whose_claim_gives_no_console_role_is_refused(console, store):
    back = through_provider(start(console), "dominique")
    refused = console.get(local(back))
    assert refused.status_code == 403 and "ne donne aucun rôle dans la console" in refused.text
    assert "guichet_role" in refused.text
    assert console.get("/").status_code == 303
    assert journaled(store)[0][:3] == ("connexion.refus", "oidc:dominique", "aucun")


def test_an_id_token_for_another_nonce_is_refused(console, store):
    back = through_provider(start(console), "camille")
    (row,) = store.rows("SELECT id, pending FROM sessions")
    pending = json.loads(row["pending"]) | {"nonce": "un-autre-nonce"}
    with store.transaction() as tx:
        tx.execute("UPDATE sessions SET pending = ? WHERE id = ?", json.dumps(pending), row["id"])
    refused = console.get(local(back))
    assert refused.status_code == 403 and "pas été accepté (InvalidClaimError)" in refused.text
    assert console.get("/").status_code == 303
