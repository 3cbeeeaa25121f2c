"""`guichet submit`: the employer's side, filing the dossiers of a scenario file to a running bus."""

from __future__ import annotations

import argparse

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_cli.commands.common import (
    account_url,
    add_broker,
    add_clock,
    add_credentials,
    add_queue_type,
    clock_from,
)
from guichet_cli.settings import add_directory, add_signing, settings_from
from services.intake import filing
from services.parties import PARTIES
from services.scenario import load_scenario


def add_command(sub) -> None:
    p = sub.add_parser(
        "submit",
        help="file the dossiers of a scenario file on a running bus",
        description="Publish, with the broker's confirmation, the filing that opens each dossier "
        "of FILE: the employer's deposit at the DT-OFII ('employeur.depot_autorisation_"
        "travail'), under plateformes-2021 its online request to the platform, and for "
        "'compétences et talents' the worker's application at the consulate. The "
        "scenario's facts travel with each filing for the simulated actors; the "
        "recipient dates the deposit on receipt.",
    )
    p.add_argument("file", metavar="FILE", help="scenario JSON file (same format as guichet simulate)")
    add_broker(p)
    add_credentials(p, "the employers' portal, employeur")
    add_clock(p)
    add_queue_type(p)
    add_signing(p)
    add_directory(p)
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="file each dossier N times, with ids suffixed -1..-N (load tests)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    directory = settings.directory_of_services
    scenario = load_scenario(args.file, directory)
    clock = clock_from(args)
    trust = settings.signing.trust()  # with a key directory, the employer signs its filings
    bus = Bus(
        account_url(settings.broker, args.credentials, "employeur", args.user_prefix),
        Topology(PARTIES, namespace=settings.namespace, queue_type=settings.queue_type),
        tls=settings.tls,
    )
    try:
        bus.declare()
        count = 0
        for dossier in scenario.dossiers:
            for n in range(1, args.repeat + 1):
                dossier_id = dossier.id if args.repeat == 1 else f"{dossier.id}-{n}"
                envelope = filing(dossier_id, dossier, scenario.regime, clock.now(), directory)
                if trust is not None:
                    envelope = trust.sign(envelope)
                bus.publish_envelope(envelope)
                count += 1
        print(f"filed {count} dossier(s)")
    finally:
        bus.close()
    return 0
