"""`journal verify` reads the journal and its anchors in batches (constant memory) and tells its
progress; an anchor beyond the journal's end is records cut off."""

from guichet import journal as chain
from guichet import journal_proof


def journal(records: int) -> list[dict]:
    rows, previous = [], chain.GENESIS
    for seq in range(1, records + 1):
        row = {f: None for f in chain.FIELDS} | {"seq": seq, "prev_hash": previous, chain.FORM: chain.RFC8785}
        row["hash"] = previous = chain.record_hash(row)
        rows.append(row)
    return rows


def register(rows: list[dict], anchors: list[dict], largest: list[int]):
    def query(sql: str, *args):
        if "journal_head" in sql:
            return [{"records": len(rows), "hash": rows[-1]["hash"]}]
        after, limit = args
        table = anchors if "journal_anchors" in sql else rows
        batch = [r for r in table if r["seq"] > after][:limit]
        largest.append(len(batch))
        return batch

    return query


def anchor(rows: list[dict], seq: int) -> dict:
    return {"seq": seq, "head": rows[seq - 1]["hash"], "signed_at": "t", "key_id": "k", "signature": "s"}


def test_streamed_in_batches_with_progress(monkeypatch):
    monkeypatch.setattr(journal_proof, "BATCH", 3)
    monkeypatch.setattr(journal_proof, "PROGRESS_RECORDS", 4)
    rows, largest, progress = journal(10), [], []
    anchors = [anchor(rows, 5), anchor(rows, 9)]
    verdict = journal_proof.verify_register(
        register(rows, anchors, largest), "smoe", progress=lambda done, total: progress.append((done, total))
    )
    assert verdict.intact and (verdict.records, verdict.anchors, verdict.anchored) == (10, 2, 9)
    assert max(largest) <= 3 and progress == [(4, 10), (8, 10)]


def test_an_anchor_beyond_the_end_is_records_cut_off():
    rows = journal(6)
    signed = anchor(journal(8), 8)
    verdict = journal_proof.verify_register(register(rows, [anchor(rows, 3), signed], []), "smoe")
    assert verdict.broken_seq == 7 and "cut off" in (verdict.problem or "")
