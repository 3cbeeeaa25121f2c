"""Who is on the bus of the guichet unique: the four agencies, the queues of the outside parties
(an employers' portal takes the employer's and the worker's messages, the ministry its copies),
and the DT-OFII, référent of the deadline alerts (II.E.1), which relays late transmissions."""

from __future__ import annotations

from guichet.topology import Parties
from schemas.base import AGENCIES

PARTIES = Parties(
    agencies=AGENCIES,
    outside={"usagers": ("employeur", "travailleur"), "ministere": ("ministere",)},
    relay="ofii",
    accounts={"travailleur": "employeur"},
    outside_senders=("employeur",),
    # The ministry, party to no step, keeps a copy of each agency's signed journal anchors.
    auditor="ministere",
)
