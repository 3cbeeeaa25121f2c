"""Trust: no personal data (name, date of birth, passport number, address) in any log line, at
any level, through a whole scenario, a failing handler and a bad message."""

import json
import subprocess
import sys

from structlog.testing import capture_logs

from guichet.privacy import REDACTED, personal_data, redact_personal_data
from tests.conftest import dossier

APPLICANT = {
    "surname": "ZYLBERSTEIN",
    "given_names": "Aurelio Quentin",
    "nationality": "BRA",
    "date_of_birth": "1987-04-23",
    "passport_number": "FX8841273",
    "address_abroad": {
        "line": "742 Rua das Laranjeiras",
        "city": "Florianopolis",
        "country": "BRA",
        "phone": "+55 48 3222 1234",
        "email": "aurelio.z@example.org",
    },
}
SECRETS = [
    "ZYLBERSTEIN",
    "Aurelio",
    "Quentin",
    "1987-04-23",
    "FX8841273",
    "Laranjeiras",
    "Florianopolis",
    "3222 1234",
    "aurelio.z@example.org",
]


def test_a_full_scenario_with_a_known_applicant_logs_nothing_personal(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(
        json.dumps(
            {
                "dossiers": [
                    dossier(id="P-1", worker=APPLICANT, family={"spouse": True, "minor_children": 1}),
                    dossier(id="P-2", worker=APPLICANT, facts={"medical_no_shows": 2, "remuneration_ok": False}),
                ]
            }
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "guichet_cli",
            "--log-level",
            "debug",
            "simulate",
            "--scenario",
            str(scenario),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) > 20 and any(REDACTED in line for line in lines), "the payloads were logged, redacted"
    leaks = [line for line in lines if any(secret.lower() in line.lower() for secret in SECRETS)]
    assert leaks == []


def test_personal_values_are_redacted_inside_any_string_of_the_message_being_handled():
    with capture_logs(processors=[redact_personal_data]) as logs, personal_data(["FX8841273", "ZYLBERSTEIN"]):
        import structlog

        structlog.get_logger().warning(
            "handler failed",
            error="KeyError: passport FX8841273 of Zylberstein",
            contact="write to a.b@example.org or +33 1 23 45 67 89",
        )
    line = json.dumps(logs)
    assert "fx8841273" not in line.lower() and "zylberstein" not in line.lower() and REDACTED in line
    assert "a.b@example.org" not in line and "23 45 67" not in line
