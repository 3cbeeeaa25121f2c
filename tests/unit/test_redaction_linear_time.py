"""Log redaction runs in time linear in what it reads: a string another party chose (a key id of
100,000 characters, a 10 MB error message) costs a service no more than reading it once. The old
e-mail pattern backtracked over the whole string at every position: 20 KB took 1.2 s, 100 KB 25 s."""

from __future__ import annotations

import random
import re
import time

from guichet.privacy import MAX_LOGGED_CHARS, REDACTED, personal_data, redact_emails, redact_personal_data, scrub

TEN_MB = 10 * 1024 * 1024
# The pattern redact_emails replaces: its meaning is kept, its cost is not.
EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[A-Za-z]{2,}")


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def test_ten_megabytes_without_an_at_sign_are_scrubbed_at_once():
    # Quadratic, this would take hours; linear, milliseconds. The ceiling only tells the two apart.
    assert timed(lambda: scrub("x" * TEN_MB)) < 2


def test_ten_megabytes_of_at_signs_and_dots_and_of_phone_like_digits_stay_linear():
    assert timed(lambda: scrub("a@b." * (TEN_MB // 4))) < 10
    assert timed(lambda: scrub("+1" + " 1" * (TEN_MB // 2))) < 10


def test_a_log_value_is_cut_before_any_pattern_runs():
    hostile = "k" * (MAX_LOGGED_CHARS + 10) + " jane@example.org"
    line = redact_personal_data(None, "warning", {"event": "refused", "key_id": hostile})
    assert line["key_id"].startswith("k" * MAX_LOGGED_CHARS)
    assert "example.org" not in line["key_id"], "what lies beyond the cut is not logged at all"
    assert line["key_id"].endswith(f"[{len(hostile) - MAX_LOGGED_CHARS} more characters not logged]")
    assert timed(lambda: redact_personal_data(None, "warning", {"key_id": "x" * TEN_MB})) < 1


def test_the_same_addresses_are_redacted_as_the_backtracking_pattern_found():
    rng = random.Random(19)
    texts = ["write to jane@example.org, or later", "a@b@c.org x@y", '"x@y.fr"', "x@a.org@b.org", "@example.org"]
    texts += ["".join(rng.choice("ab.@ \"'x") for _ in range(rng.randint(0, 24))) for _ in range(5000)]
    for text in texts:
        assert redact_emails(text) == EMAIL.sub(REDACTED, text), text


def test_bound_personal_values_are_redacted_in_one_pass_longest_first_whatever_the_case():
    with personal_data(["Jane", "Jane DOE"]):
        assert scrub("seen: jane doe, then JANE") == f"seen: {REDACTED}, then {REDACTED}"
        assert timed(lambda: scrub("y" * TEN_MB)) < 2
