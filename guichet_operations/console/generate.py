"""`guichet supervise generate`: a supervision store filled with varied, realistic dossiers, fast
enough for national volumes (bulk inserts in batches, one transaction per batch).

Each dossier follows the paper flow of the circular up to a point drawn at random: the steps it
went through (two journal records each, the sender's and the recipient's, linked by causation),
the task open at its current step with its legal deadline around the bus's now (some past, some
near), employer-side waits, breach alerts, refusals; a few failed messages land in the error queue."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from services.directory import Directory

BATCH = 5_000
# (step, sender, recipient, legal period in hours or None): the guichet unique's path.
PATH = [
    ("depot_autorisation_travail", "employeur", "ofii", None),
    ("accuse_depot", "ofii", "employeur", None),
    ("transmission_smoe", "ofii", "smoe", 5 * 24),
    ("decision_autorisation_travail", "smoe", "ofii", 10 * 24),
    ("transmission_consulat", "ofii", "consulat", 48),
    ("decision_visa", "consulat", "ofii", 15 * 24),
    ("depot_titre", "employeur", "ofii", None),
    ("transmission_prefecture", "ofii", "prefecture", 5 * 24),
    ("convocation_visite_medicale", "ofii", "travailleur", None),
    ("transmission_titre_ofii", "prefecture", "ofii", 60 * 24),
    ("remise_titre", "ofii", "travailleur", None),
]
TITLES = ["salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne", "jeune_professionnel"]
NOMS = ["Diallo", "Nguyen", "Silva", "Kowalski", "Haddad", "Okafor", "Ivanova", "Chen", "Traoré", "Rossi"]
PRENOMS = ["Amina", "Minh", "João", "Anna", "Karim", "Chidi", "Olga", "Wei", "Moussa", "Giulia"]
NATIONALITES = ["SEN", "VNM", "BRA", "POL", "LBN", "NGA", "UKR", "CHN", "MLI", "ITA"]
INSERT_DOSSIER = (
    "INSERT INTO dossiers (dossier_id, title, route, outcome, closed, step, holder, departement, prefecture, smoe, "
    "consulat, dt_ofii, siret, agdref_number, filed_at, updated_at, next_deadline, breached, alerts, projection, "
    "personal, source_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_RECORD = (
    "INSERT INTO records (agency, seq, direction, message_id, dossier_id, type, sender, recipient, sent_at, deadline, "
    "recorded_at, causation_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_TASK = (
    "INSERT INTO tasks (agency, dossier_id, task, opened_at, deadline, closed_at, employer_side) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class Generator:
    def __init__(self, seed: int, now: datetime, directory: Directory):
        self.rng, self.now, self.directory = random.Random(seed), now, directory
        self.departments = sorted(directory.guichet_unique_departments())
        self.seq = dict.fromkeys(AGENCIES, 0)

    def ident(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def dossier(self, n: int) -> tuple[tuple, list[tuple], list[tuple]]:
        rng = self.rng
        dossier_id = f"GU-{n:07d}"
        dep = rng.choice(self.departments)
        title = rng.choice(TITLES)
        roll = rng.random()
        end = len(PATH) if roll < 0.3 else rng.randint(1, len(PATH) - 1)
        outcome = "titre_remis" if end == len(PATH) else "en_cours"
        if outcome == "en_cours" and roll > 0.94:
            outcome, end = ("autorisation_travail_refusee", 4) if roll > 0.97 else ("visa_refuse", 6)
        # Open dossiers end their journey at the task now open, whose deadline falls around now.
        durations = [timedelta(hours=rng.uniform(1, (hours or 72) * 1.1)) for _, _, _, hours in PATH[:end]]
        task_deadline = self.now + timedelta(hours=rng.uniform(-72, 20 * 24))
        if outcome == "en_cours":
            period = PATH[end][3]
            last = task_deadline - timedelta(hours=period or rng.uniform(24, 30 * 24))
            filed = min(last, self.now) - sum(durations, timedelta())
        else:
            filed = self.now - timedelta(days=rng.uniform(1, 365), seconds=rng.randint(0, 86399))
        at, steps, records, alerts = filed, [], [], []
        cause = None
        for (step, sender, recipient, hours), took in zip(PATH[:end], durations, strict=True):
            deadline = at + timedelta(hours=hours) if hours else None
            at = at + took
            late = bool(deadline and at > deadline)
            if late:
                holder = recipient if recipient in AGENCIES else "ofii"
                alerts.append({"agency": holder, "step": step, "kind": "depassement", "deadline": deadline, "at": at})
            steps.append({"step": step, "from": sender, "to": recipient, "at": at, "deadline": deadline, "late": late})
            message_id = self.ident()
            for agency, direction in ((sender, "out"), (recipient, "in")):
                if agency in AGENCIES:
                    self.seq[agency] += 1
                    records.append(
                        (agency, self.seq[agency], direction, message_id, dossier_id, f"{sender}.{step}", sender,
                         recipient, utc_text(at), utc_text(deadline) if deadline else None, utc_text(at), cause,
                         self.ident())
                    )  # fmt: skip
            cause = message_id
        tasks, waiting_for, holder, next_deadline = [], None, None, None
        if outcome == "en_cours":
            step, sender, _, hours = PATH[end]
            opened = at
            employer_side = sender not in AGENCIES
            holder = "ofii" if employer_side else sender
            deadline = task_deadline if hours or employer_side else None
            tasks.append((holder, dossier_id, step, utc_text(opened), utc_text(deadline) if deadline else None,
                          None, int(employer_side)))  # fmt: skip
            if employer_side:
                waiting_for = step
            elif deadline is not None:
                next_deadline = utc_text(deadline)
                if deadline < self.now and rng.random() < 0.5:
                    alerts.append(
                        {"agency": holder, "step": step, "kind": "depassement", "deadline": deadline, "at": deadline}
                    )
            current = waiting_for or step
        else:
            current = steps[-1]["step"]
        closed = outcome != "en_cours"
        breached = any(a["kind"] in ("depassement", "transmission_en_retard") for a in alerts)
        agdref = f"{rng.randint(10**9, 10**10 - 1)}" if end >= 10 else None
        siret = f"{rng.randint(10**13, 10**14 - 1)}"
        projection = self.projection(dossier_id, title, dep, outcome, waiting_for, steps, alerts, agdref)
        personal = {"nom": rng.choice(NOMS), "prenoms": rng.choice(PRENOMS), "nationalite": rng.choice(NATIONALITES)}
        row = (
            dossier_id, title, "guichet_unique", outcome, int(closed), current, holder, dep, dep,
            projection["smoe"], projection["consulat"], projection["dt_ofii"], siret, agdref, utc_text(filed),
            utc_text(at), next_deadline, int(breached), len(alerts), json.dumps(projection, ensure_ascii=False),
            json.dumps(personal, ensure_ascii=False), n,
        )  # fmt: skip
        return row, records, tasks

    def projection(self, dossier_id, title, dep, outcome, waiting_for, steps, alerts, agdref) -> dict:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        titre = None
        if agdref:
            titre = {"kind": title, "number": f"T{agdref}", "agdref_number": agdref, "valid_from": "2026-01-01",
                     "valid_until": "2027-01-01", "fingerprints": True, "agdref_observation": None}  # fmt: skip
        return {
            "id": dossier_id, "title": title, "route": "guichet_unique", "route_reason": None, "outcome": outcome,
            "outcome_reason": "motif de refus" if outcome.endswith("refuse") or outcome.endswith("refusee") else None,
            "missing_documents": [], "dt_ofii": self.directory.dt_ofii_for(dep), "consulat": "consulat de Dakar",
            "convocations": [], "waiting_for": waiting_for, "smoe": dep, "prefecture": dep,
            "medical_visit_required": title != "carte_bleue_europeenne", "second_convocation": False,
            "returned_to_prefecture": False, "recepisse": False, "deposit_late": False, "employer_tax_eur": None,
            "employer_tax_due_by": None, "deadline_breaches": [s["step"] for s in steps if s["late"]],
            "deadline_alerts": [{**a, "deadline": iso(a["deadline"]), "at": iso(a["at"])} for a in alerts],
            "family": [], "titre": titre,
            "steps": [{**s, "at": iso(s["at"]), "deadline": iso(s["deadline"]), "stamp": None} for s in steps],
        }  # fmt: skip

    def failure(self, n: int, dossier_count: int) -> tuple:
        rng = self.rng
        dossier_id = f"GU-{rng.randint(1, max(dossier_count, 1)):07d}"
        body = json.dumps(
            {
                "message_id": self.ident(),
                "type": "ofii.depot_autorisation_travail",
                "dossier_id": dossier_id,
                "payload": {
                    "worker": {
                        "surname": rng.choice(NOMS),
                        "given_names": rng.choice(PRENOMS),
                        "passport_number": f"P{rng.randint(10**7, 10**8 - 1)}",
                        "address_abroad": {"line": "12 rue des Lilas", "city": "Dakar"},
                    }
                },
            }  # fmt: skip
        ).encode()
        if rng.random() < 0.3:
            body = body[: rng.randint(20, len(body) - 1)]  # a truncated deposit
        reason = rng.choice(["invalid_payload", "unknown_version", "bad_sender", "undecodable"])
        failed = self.now - timedelta(hours=rng.uniform(0, 24 * 30))
        headers = {"x-guichet-reason": reason, "x-guichet-attempts": rng.randint(1, 5)}
        return (
            self.ident(), dossier_id, "ofii.depot_autorisation_travail", reason, "guichet.ofii.depots",
            utc_text(failed), utc_text(self.now), "en_attente", json.dumps(headers), body, len(body), f"gen-{n}",
        )  # fmt: skip


def batches(gen: Generator, dossiers: int, start: int) -> Iterator[tuple[list, list, list]]:
    for first in range(start, start + dossiers, BATCH):
        rows, records, tasks = [], [], []
        for n in range(first, min(first + BATCH, start + dossiers)):
            row, recs, tks = gen.dossier(n)
            rows.append(row)
            records += recs
            tasks += tks
        yield rows, records, tasks


def generate(store: Store, dossiers: int, seed: int = 1, now: datetime | None = None, progress=None) -> dict:
    """Adds `dossiers` dossiers (after those already there), their records and tasks, some failures,
    and one audit-copy source per agency dated `now` (real time by default, time scale 1)."""
    now = now or datetime.now(UTC)
    gen = Generator(seed, now, Directory.shipped())
    existing = store.rows("SELECT COUNT(*) AS n FROM dossiers")[0]["n"]
    for agency in AGENCIES:
        last = store.rows("SELECT MAX(seq) AS s FROM records WHERE agency = ?", agency)[0]["s"]
        gen.seq[agency] = int(last or 0)
    if store.dialect.name == "sqlite":
        with store.transaction() as tx:  # 256 MB: the indexes of a national volume stay in memory
            tx.execute("PRAGMA cache_size=-262144")
    done = 0
    for rows, records, tasks in batches(gen, dossiers, existing + 1):
        with store.transaction() as tx:
            tx.executemany(INSERT_DOSSIER, rows)
            tx.executemany(INSERT_RECORD, records)
            tx.executemany(INSERT_TASK, tasks)
        done += len(rows)
        if progress:
            progress(done)
    with store.transaction() as tx:  # the planner's statistics, for the filters' indexes
        tx.execute("ANALYZE")
    failures = [gen.failure(n, existing + dossiers) for n in range(existing, existing + max(20, dossiers // 1000))]
    queues = json.dumps({"guichet.ofii.depots": {"messages": 3, "consumers": 1}})
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO failures (message_id, dossier_id, type, reason, queue, failed_at, ingested_at, status, "
            "headers, body, body_size, ingest_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            failures,
        )
        tx.execute("DELETE FROM sources")
        for agency in AGENCIES:
            tx.execute(
                "INSERT INTO sources (agency, seq, head_hash, bus_now, time_scale, received_at, queues) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                agency, gen.seq[agency], gen.ident(), utc_text(now), 1.0, utc_text(now), queues,
            )  # fmt: skip
    return {"dossiers": dossiers, "failures": len(failures)}
