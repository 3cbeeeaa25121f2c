"""One name per step (schemas/steps.py): every message that carries a step names a member of the
enumeration, every member is carried by a message or done inside one agency, and every one has the
French label an agent reads (circulaire, II: the steps of the paper flow)."""

from schemas.catalogue import message_registry
from schemas.steps import INTERNAL, Step
from services.summary import STEPS, label

MESSAGES = message_registry()


def test_every_message_step_is_a_member_of_the_enumeration():
    carried = {cls.STEP for cls in MESSAGES.values() if cls.STEP is not None}
    assert carried, "no message names its step"
    assert all(isinstance(step, Step) for step in carried), [s for s in carried if not isinstance(s, Step)]


def test_every_step_is_carried_by_a_message_or_done_inside_one_agency():
    carried = {cls.STEP for cls in MESSAGES.values() if cls.STEP is not None}
    assert set(Step) == carried | INTERNAL
    assert not carried & INTERNAL


def test_every_step_has_its_french_label_and_the_summary_uses_it():
    for step in Step:
        assert step.label and step.label != step.value
        assert label(STEPS, step.value) == step.label
