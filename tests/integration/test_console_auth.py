"""The console's sign-in (issue 22, "people logged in, with roles" and "safe pages"), on a tiny
application behind the real package, on SQLite and PostgreSQL: console accounts with argon2 hashes and
a lockout, sessions kept server-side that expire when idle and after a maximum, a new session id at
sign-in, CSRF tokens tied to the session, the allowed Host names, no redirection off the console, 401
under /api/, 403 for a role too low, and every sign-in, failure, lockout and sign-out journaled."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.console_auth_app import (
    PASSWORD,
    AccountError,
    Accounts,
    AuthNotConfigured,
    Clock,
    config,
    install,
    tiny_app,
    token_in,
)
from tests.supervision_stores import store  # noqa: F401 (the fixture, on both dialects)

WRONG = "Identifiant ou mot de passe incorrect."


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(store, clock):
    made = Accounts(store)
    made.add("cmartin", "Camille Martin", "agent", PASSWORD, clock())
    return made


@pytest.fixture
def client(store, clock, accounts):
    with TestClient(tiny_app(store, config(clock)), follow_redirects=False) as c:
        yield c


def sign_in(client, identifier="cmartin", password=PASSWORD, suite="/"):
    form = client.get("/connexion", params={"suite": suite})
    assert form.status_code == 200
    return client.post(
        "/connexion",
        data={"identifiant": identifier, "mot_de_passe": password, "csrf_token": token_in(form.text), "suite": suite},
    )


def actions(store):
    return [
        (r["action"], r["person"], r["role"], json.loads(r["detail"]))
        for r in store.rows("SELECT action, person, role, detail FROM actions ORDER BY id")
    ]


def test_a_page_without_a_session_sends_to_the_sign_in_form_and_back_after_it(client, store):
    first = client.get("/", params={"x": "1"})
    assert first.status_code == 303 and first.headers["location"] == "/connexion?suite=%2F%3Fx%3D1"
    signed = sign_in(client, suite="/?x=1")
    assert signed.status_code == 303 and signed.headers["location"] == "/?x=1"
    page = client.get("/")
    assert page.status_code == 200 and page.text.startswith("Bonjour Camille Martin (agent, cmartin)")
    assert actions(store) == [("connexion", "cmartin", "agent", {"name": "Camille Martin", "via": "mot_de_passe"})]


def test_a_wrong_password_and_an_unknown_identifier_get_the_same_answer_and_are_journaled(client, store):
    wrong, unknown = sign_in(client, password="pas le bon mot de passe"), sign_in(client, identifier="personne")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.text and WRONG in unknown.text
    assert client.get("/").status_code == 303
    failed = [("connexion.echec", "cmartin"), ("connexion.echec", "personne")]
    assert [(a, p) for a, p, _, _ in actions(store)] == failed


def test_five_failures_lock_the_account_for_fifteen_minutes(client, store, clock):
    for _ in range(5):
        assert sign_in(client, password="pas le bon mot de passe").status_code == 401
    locked = sign_in(client)
    assert locked.status_code == 401 and "verrouillé" in locked.text
    clock.advance(minutes=14)
    assert sign_in(client).status_code == 401
    clock.advance(minutes=1)
    assert sign_in(client).status_code == 303
    journaled = [a for a, *_ in actions(store)]
    assert journaled.count("connexion.verrouillage") == 1 and journaled[-1] == "connexion"
    assert journaled.index("connexion.verrouillage") == 5  # journaled with the fifth failure


def test_a_disabled_account_is_refused_even_with_its_password(client, accounts, clock):
    accounts.disable("cmartin", clock())
    refused = sign_in(client)
    assert refused.status_code == 401 and "désactivé" in refused.text
    with pytest.raises(AccountError, match="identifiant"):
        accounts.disable("personne", clock())


def test_a_session_unused_for_thirty_minutes_is_over(client, clock):
    sign_in(client)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200  # used: the idle time starts again
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=30)
    assert client.get("/").status_code == 303


def test_a_session_is_over_ten_hours_after_sign_in_however_much_it_is_used(client, clock):
    sign_in(client)
    for _ in range(29):
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=20)  # 10 h exactly
    assert client.get("/").status_code == 303


def test_sign_in_gives_a_new_session_id_and_the_one_before_is_worth_nothing(client, store):
    client.get("/connexion")
    before = client.cookies["guichet_session"]
    sign_in(client)
    after = client.cookies["guichet_session"]
    assert after != before
    client.cookies = {"guichet_session": before}
    assert client.get("/").status_code == 303
    assert store.rows("SELECT COUNT(*) AS n FROM sessions")[0]["n"] == 1
    assert before not in json.dumps(store.rows("SELECT id FROM sessions"))  # the store keeps a hash, not the id


def test_a_form_without_the_session_s_token_is_refused(client, store, clock):
    refused = client.post("/connexion", data={"identifiant": "cmartin", "mot_de_passe": PASSWORD, "csrf_token": "x"})
    assert refused.status_code == 403 and "Formulaire périmé" in refused.text
    assert actions(store) == []
    sign_in(client)
    token = token_in('name="csrf_token" value="' + client.get("/").text.split()[-1] + '"')
    assert client.post("/formulaire", data={"csrf_token": token}).text == "pris"
    assert client.post("/formulaire", data={"csrf_token": token[:-1] + "0"}).text == "refusé"
    with TestClient(tiny_app(store, config(clock)), follow_redirects=False) as other:
        sign_in(other)
        assert other.post("/formulaire", data={"csrf_token": token}).text == "refusé"  # another session's


def test_sign_out_needs_the_token_ends_the_session_and_is_journaled(client, store):
    sign_in(client)
    cookie = client.cookies["guichet_session"]
    token = client.get("/").text.split()[-1]
    assert client.post("/deconnexion", data={"csrf_token": "x"}).status_code == 403
    out = client.post("/deconnexion", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/connexion"
    client.cookies = {"guichet_session": cookie}  # as if the browser had kept it
    assert client.get("/").status_code == 303
    assert [a for a, *_ in actions(store)] == ["connexion", "deconnexion"]
    assert actions(store)[-1][3] == {"name": "Camille Martin", "via": "mot_de_passe"}


def test_a_foreign_host_gets_a_400_and_no_page(client):
    sign_in(client)
    foreign = client.get("/", headers={"host": "evil.example"})
    assert foreign.status_code == 400 and "Bonjour" not in foreign.text
    assert client.get("/connexion", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "testserver:8091"}).status_code == 200


@pytest.mark.parametrize("suite", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_sign_in_never_sends_off_the_console(client, suite):
    assert sign_in(client, suite=suite).headers["location"] == "/"


def test_the_api_answers_401_in_json_without_a_session_and_403_for_a_role_too_low(client):
    refused = client.get("/api/v1/etat")
    assert refused.status_code == 401 and refused.json() == {"status": 401, "detail": "connexion requise"}
    sign_in(client)
    assert client.get("/api/v1/etat").json() == {"ok": True}
    low = client.get("/agir")
    assert low.status_code == 403 and "operateur" in low.text


def test_pages_carry_the_security_headers_and_the_cookie_its_flags(store, clock, accounts):
    with TestClient(tiny_app(store, config(clock, https_only=True)), base_url="https://testserver") as c:
        form = c.get("/connexion")
        cookie = form.headers["set-cookie"]
        assert cookie.startswith("__Host-guichet_session=")
        assert all(flag in cookie.lower() for flag in ("httponly", "samesite=lax", "secure", "path=/"))
        assert form.headers["x-frame-options"] == "DENY"
        assert form.headers["cache-control"] == "no-store"
        assert form.headers["strict-transport-security"].startswith("max-age=")
        assert sign_in(c).status_code == 200 and "Bonjour" in c.get("/").text  # redirects followed
    with TestClient(tiny_app(store, config(clock))) as plain:
        assert "strict-transport-security" not in plain.get("/connexion").headers


def test_an_outdated_hash_is_replaced_at_sign_in(client, store):
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    with store.transaction() as tx:
        tx.execute("UPDATE accounts SET password_hash = ? WHERE identifier = ?", weak, "cmartin")
    assert sign_in(client).status_code == 303
    assert store.rows("SELECT password_hash FROM accounts")[0]["password_hash"] != weak


def test_accounts_refuse_what_they_cannot_take_naming_the_field(accounts, clock):
    for args, field in [
        (("cmartin", "Autre", "agent", PASSWORD), "identifiant"),
        (("a b", "Autre", "agent", PASSWORD), "identifiant"),
        (("x", " ", "agent", PASSWORD), "nom"),
        (("x", "X", "chef", PASSWORD), "rôle"),
        (("x", "X", "agent", "court"), "mot de passe"),
    ]:
        with pytest.raises(AccountError, match=field):
            accounts.add(*args, clock())


def test_there_is_no_console_without_its_sign_in(store):
    with pytest.raises(AuthNotConfigured, match="connexion"):
        install(Starlette(), store, None)


def test_expired_sessions_are_cleared_when_a_new_one_begins(client, store, clock):
    sign_in(client)
    for _ in range(3):
        client.cookies.clear()
        client.get("/connexion")  # forms opened and left: a session each
    assert store.rows("SELECT COUNT(*) AS n FROM sessions")[0]["n"] == 4
    clock.advance(minutes=30)
    client.cookies.clear()
    client.get("/connexion")
    assert store.rows("SELECT COUNT(*) AS n FROM sessions")[0]["n"] == 1


def test_a_form_posted_without_a_session_goes_to_sign_in_and_then_home(client):
    refused = client.post("/formulaire", data={"csrf_token": "x"})
    assert refused.status_code == 303 and refused.headers["location"] == "/connexion?suite=%2F"
