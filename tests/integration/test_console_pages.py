"""The supervision console on hand-made stores: pagination, filters, search, sorting, French labels and
dates, the bus clock, deadlines, roles, redaction and the error queue's actions, journaled by name."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store
from tests.console_people import SignedIn
from tests.console_store import (
    NOW,
    add_dossier,
    add_failure,
    add_record,
    add_source,
    add_task,
    projection,
)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'supervision.db'}")
    add_source(s, "ofii", NOW, NOW)
    yield s
    s.close()


def client(store, **config) -> SignedIn:
    return SignedIn(store, real_now=lambda: NOW, **config)


def ids(html: str) -> list[str]:
    return re.findall(r'data-dossier="([^"]+)"', html)


def get(c, path, role="lecture"):
    r = c.person(role).get(path)
    assert r.status_code == 200, r.text
    return r


def test_the_list_is_paged_by_cursor_forward_and_back_with_every_dossier_once(store):
    for n in range(120):
        add_dossier(store, f"D-{n:03d}", updated_at=utc_text(NOW - timedelta(minutes=n)))
    c = client(store)
    first = get(c, "/").text
    assert ids(first) == [f"D-{n:03d}" for n in range(50)]
    second = get(c, re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")).text
    third = get(c, re.search(r'rel="next" href="([^"]+)"', second).group(1).replace("&amp;", "&")).text
    assert ids(second) == [f"D-{n:03d}" for n in range(50, 100)]
    assert ids(third) == [f"D-{n:03d}" for n in range(100, 120)] and 'rel="next"' not in third
    back = get(c, re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")).text
    assert ids(back) == ids(first)
    assert ids(get(c, "/?taille=200").text) == [f"D-{n:03d}" for n in range(120)]
    assert c.person().get("/?taille=201").status_code == 400


@pytest.mark.parametrize(
    "query, expected",
    [
        ("etat=clos", {"closed"}),
        ("etat=en_cours", {"smoe", "step", "title", "dep", "late", "breached", "old"}),
        ("agence=smoe", {"smoe"}),
        ("etape=decision_visa", {"step"}),
        ("titre=carte_bleue_europeenne", {"title"}),
        ("departement=69", {"dep"}),
        ("prefecture=69", {"dep"}),
        ("retard=1", {"late"}),
        ("depasse=1", {"breached"}),
        ("depuis=2025-01-01&jusqu_au=2025-01-31", {"old"}),
        ("agence=smoe&etat=clos", set()),
    ],
)
def test_each_filter_keeps_exactly_the_dossiers_it_names(store, query, expected):
    add_dossier(store, "closed", outcome="titre_remis", closed=1, step="remise_titre", holder=None)
    add_dossier(store, "smoe", holder="smoe", step="decision_autorisation_travail")
    add_dossier(store, "step", step="decision_visa", holder="consulat")
    add_dossier(store, "title", title="carte_bleue_europeenne")
    add_dossier(store, "dep", departement="69", prefecture="69")
    add_dossier(store, "late", next_deadline=utc_text(NOW - timedelta(hours=2)))
    add_dossier(store, "breached", breached=1, alerts=1)
    add_dossier(store, "old", filed_at="2025-01-15T10:00:00.000000Z")
    assert set(ids(get(client(store), "/?" + query).text)) == expected


def test_search_finds_a_dossier_by_its_id_its_agdref_number_or_its_employers_siret_exactly(store):
    add_dossier(store, "D-1", agdref_number="7501234567", siret="12345678901234")
    add_dossier(store, "D-2", agdref_number="7509999999", siret="99999999999999")
    c = client(store)
    for q in ("D-1", "7501234567", "12345678901234"):
        assert ids(get(c, f"/?q={q}").text) == ["D-1"]
    assert ids(get(c, "/?q=750123").text) == []
    assert get(c, "/api/v1/dossiers?q=99999999999999").json()["rows"][0]["dossier_id"] == "D-2"


def test_sorting_by_id_filing_and_deadline(store):
    add_dossier(store, "B", filed_at="2026-01-02T00:00:00.000000Z", next_deadline="2026-03-25T00:00:00.000000Z")
    add_dossier(store, "A", filed_at="2026-01-03T00:00:00.000000Z", next_deadline="2026-03-23T00:00:00.000000Z")
    add_dossier(store, "C", filed_at="2026-01-01T00:00:00.000000Z", next_deadline=None)
    c = client(store)
    assert ids(get(c, "/?tri=id").text) == ["A", "B", "C"]
    assert ids(get(c, "/?tri=id&ordre=desc").text) == ["C", "B", "A"]
    assert ids(get(c, "/?tri=filed&ordre=asc").text) == ["C", "B", "A"]
    assert ids(get(c, "/?tri=deadline").text) == ["A", "B"]  # the soonest deadline first; none, not listed


def test_pages_speak_french_with_paris_dates_and_the_steps_labels(store):
    add_dossier(store, "D-1", step="transmission_smoe", filed_at="2026-03-21T08:00:00.000000Z", holder="smoe")
    html = get(client(store), "/").text
    assert '<html lang="fr">' in html
    assert "transmission au SMOE" in html and "salarié en mission" in html and "en cours" in html
    assert "21/03/2026 09:00" in html  # 08:00 UTC is 09:00 in Paris in March
    assert "Maintenant : 21/03/2026 09:00" in html and "simulée" not in html


def test_a_simulated_bus_shows_its_own_clock_and_every_time_left_is_counted_from_it(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    # The last audit copy said 09:00 on a bus running 100 times faster, received 60 real seconds ago.
    add_source(store, "ofii", NOW, NOW - timedelta(days=300), time_scale=100)
    real = NOW - timedelta(days=300) + timedelta(seconds=60)
    add_dossier(store, "D-1", next_deadline=utc_text(NOW + timedelta(hours=3)))
    add_task(store, "D-1", "transmission_smoe", NOW - timedelta(days=4), NOW + timedelta(hours=3), agency="ofii")
    c = SignedIn(store, real_now=lambda: real)
    html = get(c, "/echeances").text
    assert "Horloge du bus (simulée, ×100) : 21/03/2026 10:40" in html  # 09:00 + 6000 s
    assert "1 h 20 min restants" in html  # counted from 10:40, not from the real clock
    assert get(c, "/api/v1/deadlines").json()["clock"]["virtual"] is True


def test_employer_side_waits_are_never_breaches_nor_on_the_board(store):
    add_dossier(store, "W", step="complements_titre", holder="ofii")
    add_task(store, "W", "complements_titre", NOW - timedelta(days=40), NOW - timedelta(days=5), employer_side=1)
    add_dossier(store, "S", holder="smoe", next_deadline=utc_text(NOW - timedelta(hours=1)))
    add_task(store, "S", "decision_autorisation_travail", NOW - timedelta(days=10), NOW - timedelta(hours=1),
             agency="smoe")  # fmt: skip
    c = client(store)
    board = get(c, "/echeances").text
    assert ids(board) == ["S"] and "délai dépassé" in board
    assert ids(get(c, "/?retard=1").text) == ["S"]
    page = get(c, "/dossiers/W").text
    assert "DANS LES DÉLAIS" in page and "attente de l'employeur" in page


def test_a_breached_dossier_never_also_says_every_step_was_on_time(store):
    late = projection("B", deadline_breaches=["transmission_smoe"])
    add_dossier(store, "B", view=late, breached=0)
    add_dossier(store, "A", breached=1, alerts=1)
    c = client(store)
    for dossier_id in ("A", "B"):
        page = get(c, f"/dossiers/{dossier_id}").text
        assert "DÉLAI DÉPASSÉ" in page and "dans ses délais" not in page
    assert get(c, "/api/v1/dossiers/B").json()["standing"] == "depasse"


def test_the_dossier_page_has_summary_sequence_with_years_and_timeline_and_personal_data_for_agents(store):
    alert = {"agency": "smoe", "step": "decision_autorisation_travail", "kind": "depassement",
             "deadline": "2026-03-19T08:00:00+00:00", "at": "2026-03-19T09:00:00+00:00"}  # fmt: skip
    add_dossier(store, "D-1", view=projection("D-1", deadline_alerts=[alert]), breached=1, alerts=1,
                personal=json.dumps({"nom": "Diallo", "prenoms": "Amina"}))  # fmt: skip
    add_record(store, "ofii", 1, "D-1", "m1", "ofii.transmission_smoe", "ofii", "smoe", NOW - timedelta(days=9))
    add_record(store, "smoe", 1, "D-1", "m1", "ofii.transmission_smoe", "ofii", "smoe", NOW - timedelta(days=9),
               direction="in")  # fmt: skip
    add_record(store, "smoe", 2, "D-1", "m2", "smoe.decision_autorisation_travail", "smoe", "ofii",
               NOW - timedelta(days=1), NOW - timedelta(days=2), causation_id="m1")  # fmt: skip
    c = client(store)
    page = get(c, "/dossiers/D-1").text
    assert "Dossier D-1 - salarié en mission - guichet unique OFII" in page  # services/summary.py
    assert page.count('<tr class="message') == 2  # m1 journalled twice, shown once
    assert 'href="#m-m1"' in page and "hors délai" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "12/03/2026" in svg  # the year beside each arrow
    label = "⚠ délai dépassé : décision sur l&#x27;autorisation de travail (19/03/2026 09:00)"
    assert label in svg, svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    x = int(re.search(r'<text x="(\d+)" y="\d+">⚠ délai dépassé', svg).group(1))
    assert x + 7 * len("⚠ délai dépassé : décision sur l'autorisation de travail (19/03/2026 09:00)") <= width
    assert "Diallo" not in page and "réservées au rôle agent" in page
    assert "Diallo" in get(c, "/dossiers/D-1", role="agent").text
    assert get(c, "/api/v1/dossiers/D-1").json()["personal"] is None
    assert get(c, "/api/v1/dossiers/D-1", role="agent").json()["personal"]["nom"] == "Diallo"


def test_every_page_needs_a_person_signed_in_and_sends_a_strict_policy(store):
    c = client(store)
    nobody = c.anonymous()
    for path in ("/", "/echeances", "/erreurs", "/services", "/journal"):
        answer = nobody.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion?suite=")
    for path in ("/api/v1/dossiers", "/api/v1/openapi.json"):
        assert nobody.get(path).status_code == 401
    r = get(c, "/echeances")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script>" not in r.text and 'src="/static/refresh.js"' in r.text and "http" not in r.text.split(
        "<body")[0].replace("http-equiv", "")  # fmt: skip


WORKER = {"surname": "Diallo", "given_names": "Amina", "passport_number": "P12345678",
          "address_abroad": {"line": "12 rue des Lilas", "city": "Dakar"}}  # fmt: skip
BODY = json.dumps({"type": "ofii.depot_autorisation_travail", "payload": {"worker": WORKER},
                   "note": "Diallo a appelé"}).encode()  # fmt: skip
SECRETS = ("Diallo", "Amina", "P12345678", "12 rue des Lilas", "Dakar")


@pytest.mark.parametrize("cut", [len(BODY), BODY.index(b"P12345678") + 5, BODY.index(b"Lilas")], ids=str)
def test_a_failed_body_is_shown_redacted_even_truncated(store, cut):
    failure = add_failure(store, BODY[:cut], "k")
    c = client(store)
    page = get(c, f"/erreurs/{failure}").text
    shown = [s for s in SECRETS if s in page]
    assert shown == [] and "[REDACTED]" in page
    assert all(s not in json.dumps(get(c, f"/api/v1/failures/{failure}").json()) for s in SECRETS)


def test_a_huge_or_deeply_nested_body_is_shown_cut(store):
    huge = add_failure(store, b'{"a": "' + b"x" * 5_000_000 + b'"}', "huge")
    deep = add_failure(store, b"[" * 200_000 + b"]" * 200_000, "deep")
    c = client(store)
    assert "octets de plus non affichés" in get(c, f"/erreurs/{huge}").text
    assert get(c, f"/api/v1/failures/{deep}").json()["body_cut"] == 400_000 - 64 * 1024


def test_the_error_listing_opened_ten_times_at_once_shows_the_same_count(store):
    for n in range(30):
        add_failure(store, b"{}", f"k{n}")
    c = client(store)
    counts, errors = [], []

    def open_it():
        try:
            counts.append(re.search(r'data-count="(\d+)"', get(c, "/erreurs").text).group(1))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and counts == ["30"] * 10


def test_archive_then_restore_after_confirmation_journal_the_persons_name(store):
    first, second = add_failure(store, b"{}", "a"), add_failure(store, b"{}", "b")
    c = client(store)
    operator, agent = c.person("operateur", "op-7", "Dominique Leroy"), c.person("agent")
    assert agent.post("/erreurs/archive", data={"id": [first], "csrf_token": agent.csrf}).status_code == 403
    assert operator.post("/erreurs/archive", data={"id": [first], "csrf_token": "x"}).status_code == 403
    confirm = operator.post("/erreurs/confirmer",
                            data={"action": "archive", "id": [first, second], "csrf_token": operator.csrf})  # fmt: skip
    assert confirm.status_code == 200 and "Confirmer : archiver 2 message(s)" in confirm.text
    assert store.rows("SELECT status FROM failures WHERE id = ?", first)[0]["status"] == "en_attente"
    done = operator.post("/erreurs/archive", data={"id": [first, second], "csrf_token": operator.csrf})
    assert done.status_code == 303
    restored = operator.post("/api/v1/failures/restore", json={"ids": [first]}, headers={"X-CSRF-Token": operator.csrf})
    assert restored.json()["done"] == [first]
    assert {r["id"]: r["status"] for r in store.rows("SELECT id, status FROM failures")} == {
        first: "en_attente",
        second: "archive",
    }
    events = store.rows("SELECT failure_id, event, person FROM failure_events ORDER BY id")
    assert events == [
        {"failure_id": first, "event": "archive", "person": "Dominique Leroy (op-7)"},
        {"failure_id": second, "event": "archive", "person": "Dominique Leroy (op-7)"},
        {"failure_id": first, "event": "restore", "person": "Dominique Leroy (op-7)"},
    ]
    actions = store.rows("SELECT person, role, action, detail FROM actions WHERE action LIKE 'failures.%' ORDER BY id")
    assert [(a["person"], a["role"], a["action"]) for a in actions] == [
        ("op-7", "operateur", "failures.archive"),
        ("op-7", "operateur", "failures.restore"),
    ]
    assert json.loads(actions[0]["detail"])["name"] == "Dominique Leroy"
    assert "Dominique Leroy" in get(c, "/journal").text and "archivé" in get(c, f"/erreurs/{first}").text
    assert operator.post("/api/v1/failures/archive", json={"ids": [first]}).status_code == 403, "no CSRF token"


def test_replay_without_a_broker_moves_nothing_and_says_why(store):
    failure = add_failure(store, b"{}", "a")
    operator = client(store).person("operateur")
    r = operator.post("/api/v1/failures/replay", json={"ids": [failure]}, headers={"X-CSRF-Token": operator.csrf})
    assert r.status_code == 502 and r.json()["done"] == [] and "broker" in r.json()["error"]
    assert store.rows("SELECT status FROM failures")[0]["status"] == "en_attente"


def test_services_show_each_agencys_last_copy_its_lag_and_queues(store):
    add_source(store, "smoe", NOW - timedelta(minutes=5), NOW - timedelta(minutes=2),
               queues={"guichet.smoe.decisions": {"messages": 12, "consumers": 2}})  # fmt: skip
    html = get(client(store), "/services").text
    assert "guichet.smoe.decisions : 12 message(s), 2 consommateur(s)" in html and "0 h 2 min restants" in html
