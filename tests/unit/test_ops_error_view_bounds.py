"""The error queue's page shows what a hostile sender filed there without stalling: a body nested
100,000 levels deep or 10 MB long is shown as cut text, not parsed into a 503 or a page of 10 MB."""

from __future__ import annotations

import json

from guichet_operations.view.error_actions import SHOWN_BODY_BYTES, _dossier_in, redacted_body


def test_a_body_nested_beyond_any_parser_is_shown_as_text():
    body = b'{"dossier_id": "D-1", "facts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert len(body) <= SHOWN_BODY_BYTES * 4  # 200 KB: cut, shown as text
    shown = redacted_body(body)
    assert shown.startswith('{"dossier_id": "D-1"') and "more bytes not shown" in shown
    small = b'{"facts": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    assert redacted_body(small).startswith('{"facts": [[[')  # under the cut, yet too deep to parse
    assert _dossier_in(small) is None


def test_a_ten_megabyte_body_is_shown_cut_with_what_was_left_out_counted():
    body = json.dumps({"dossier_id": "D-1", "payload": {"note": "x" * 10_000_000}}).encode()
    shown = redacted_body(body)
    assert len(shown) < SHOWN_BODY_BYTES + 200
    assert shown.endswith(f"[... {len(body) - SHOWN_BODY_BYTES} more bytes not shown]")
    assert _dossier_in(body) is None, "not parsed either"
