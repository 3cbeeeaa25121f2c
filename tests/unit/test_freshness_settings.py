"""How far a sender's date may stray from the receiver's clock, as an operator sets it
(guichet/receipt.py; read from the environment by the command line, guichet_cli/settings.py): the
time limits run from the receipt of the dossier ("à compter de la réception", II.A.1, II.B), so the
receiver's clock dates every step and the sender's date is judged against it within bounds an
operator can widen."""

from datetime import datetime, timedelta

import pytest

from guichet.envelope import Sender, wrap
from guichet.receipt import Freshness
from guichet.timeutil import PARIS
from guichet_cli.settings import TOLERANCE_VARIABLE, WINDOW_VARIABLE, freshness_from
from guichet_cli.usage import UsageError
from schemas.titre import Recepisse

NOW = datetime(2026, 3, 2, 9, tzinfo=PARIS)


def dated(sent_at: datetime):
    return wrap(
        Recepisse(valid_until=NOW.date()), dossier_id="D-1", sender=Sender(agency="prefecture"), sent_at=sent_at
    )


def test_without_settings_five_minutes_ahead_and_a_year_back_are_the_bounds():
    """II.B: the receiver dates the receipt; five minutes of disagreement between two servers, a
    year of waiting (beyond the six months of R.313-20-2 III, the longest limit of the flow)."""
    assert freshness_from({}) == Freshness()
    assert Freshness().tolerance == timedelta(minutes=5) and Freshness().window == timedelta(days=366)


def test_an_operator_widens_the_tolerance_and_the_window():
    """II.A.1: a bus whose hosts keep their clocks less well, or whose consumers may stay down longer,
    still dates each step at its receipt; only the bounds on the sender's date move."""
    freshness = freshness_from({TOLERANCE_VARIABLE: "900", WINDOW_VARIABLE: "800"})
    assert freshness.tolerance == timedelta(minutes=15) and freshness.window == timedelta(days=800)
    assert freshness.judge(dated(NOW + timedelta(minutes=10)), NOW) is None
    assert freshness.judge(dated(NOW - timedelta(days=700)), NOW) is None
    assert Freshness().judge(dated(NOW + timedelta(minutes=10)), NOW).reason == "dated_in_future"
    assert Freshness().judge(dated(NOW - timedelta(days=700)), NOW).reason == "stale"


@pytest.mark.parametrize("text", ["0", "-5", "five", "nan", "inf", "1e9"])
def test_a_bound_that_is_not_a_positive_number_is_named(text):
    """II.E.1: a service that would let every date in, or none, cannot watch a deadline: it does not
    start, and the variable is named."""
    with pytest.raises(UsageError, match=f"{TOLERANCE_VARIABLE}={text}"):
        freshness_from({TOLERANCE_VARIABLE: text})
