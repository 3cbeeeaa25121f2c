"""How the DT-OFII waits for a person's act: the task, its deadline, and what the dossier awaits."""
from __future__ import annotations

from guichet.agency import Context
from services.ofii.state import OfiiDossier


def await_step(ctx: Context, d: OfiiDossier, task: str, deadline=None, watch: bool = True) -> None:
    d.waiting_for = task
    if deadline is not None:
        d.deadlines[task] = deadline
    ctx.await_act(task, deadline=deadline, watch=watch)
