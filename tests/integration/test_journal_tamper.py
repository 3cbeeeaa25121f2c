"""The hash-chained journal: editing one byte of a record, or deleting one, is detected and the
record named (`guichet journal verify`)."""

import json
import sqlite3
import subprocess
import sys

from tests.conftest import dossier


def guichet(*args):
    return subprocess.run([sys.executable, "-m", "guichet_cli", *args], capture_output=True, text=True, timeout=120)


def test_journal_verify_names_the_first_edited_or_deleted_record(tmp_path):
    data = tmp_path / "data"
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"dossiers": [dossier()]}))
    assert guichet("simulate", "--scenario", str(scenario), "--data-dir", str(data)).returncode == 0
    intact = guichet("journal", "verify", "--data-dir", str(data), "--json")
    verdicts = json.loads(intact.stdout)
    assert intact.returncode == 0 and set(verdicts) == {"ofii", "smoe", "consulat", "prefecture"}
    assert all(v["intact"] and v["records"] > 2 for v in verdicts.values())

    with sqlite3.connect(data / "smoe.sqlite3") as conn:  # one byte of record 2: a date moved by a day
        sent_at = conn.execute("SELECT sent_at FROM journal WHERE seq = 2").fetchone()[0]
        edited = sent_at[:9] + chr(ord(sent_at[9]) + 1) + sent_at[10:]
        conn.execute("UPDATE journal SET sent_at = ? WHERE seq = 2", (edited,))
    broken = guichet("journal", "verify", "smoe", "--data-dir", str(data))
    assert broken.returncode == 1 and "BROKEN at record 2" in broken.stdout and "altered" in broken.stdout

    with sqlite3.connect(data / "consulat.sqlite3") as conn:
        conn.execute("DELETE FROM journal WHERE seq = 3")
    deleted = json.loads(guichet("journal", "verify", "consulat", "--data-dir", str(data), "--json").stdout)
    assert deleted["consulat"]["broken_record"] == 3 and "missing" in deleted["consulat"]["problem"]

    with sqlite3.connect(data / "prefecture.sqlite3") as conn:  # cut off the end: the head tells
        last = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
        conn.execute("DELETE FROM journal WHERE seq = ?", (last,))
    cut = json.loads(guichet("journal", "verify", "prefecture", "--data-dir", str(data), "--json").stdout)
    assert not cut["prefecture"]["intact"] and cut["prefecture"]["broken_record"] == last
    assert guichet("journal", "verify", "ofii", "--data-dir", str(data)).returncode == 0
