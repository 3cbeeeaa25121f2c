"""What `guichet bench` prints without --json: the figures as lines an operator reads."""

from __future__ import annotations

from guichet_simulation.benchmark.bus_run import SHAPE

# What one bench dossier makes the bus deliver, its filing included (the carte bleue's 13 hops).
DELIVERIES_PER_DOSSIER = 13


def _times(f: dict) -> str:
    return f" x{f['ofii_processes']}" if f.get("ofii_processes", 1) > 1 else ""


def _ms(value) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def render(f: dict) -> str:
    scale = f"time scale {f['time_scale']:g}" + (" (real time)" if f["time_scale"] == 1 else "")
    lines = [
        f"bench: {f['dossiers']} dossiers ({SHAPE}, {scale}) on {f['broker']}",
        f"bus: 4 services, one `guichet run` process each (ofii{_times(f)}, smoe, consulat, prefecture), "
        f"SQLite registers, prefetch {f['prefetch']}",
    ]
    if f["dossiers_done"] < f["dossiers"]:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(f["outcomes"].items()))
        lines.append(
            f"NOT FINISHED: {f['dossiers_done']} of {f['dossiers']} dossiers done"
            f"{' (timeout)' if f['timed_out'] else ''}; outcomes at the DT-OFII: {outcomes or 'none'}"
        )
    lines += [
        f"wall: {f['wall_s']:.2f} s, first filing to last dossier done (titre_remis at the DT-OFII)",
        *(
            [
                f"offered: {f['offered_rate']:g} messages/s ({f['offered_rate'] / DELIVERIES_PER_DOSSIER:.2f} dossiers "
                f"filed per second, {f['dossiers']} dossiers)"
            ]
            if f.get("offered_rate")
            else []
        ),
        f"dossiers/s: {f['dossiers_per_s']:.2f}",
        f"messages/s: {f['messages_per_s']:.2f}  ({f['messages']} messages confirmed by the broker in that time: "
        f"{f['filings']} filings + {f['messages'] - f['filings']} published by the services)",
    ]
    if f["timer_messages"]:
        lines.append(
            f"  of which {f['timer_messages']} timer messages (deadline-watch reminders, alerts, échéances) "
            f"that fired during the run because of the time scale"
        )
    width = max((len(label) for label in f["latency_ms"]), default=3)
    for label, s in f["latency_ms"].items():
        name = "all hops" if label == "all" else label
        lines.append(f"latency {name:<{max(width, 8)}}  p50 {_ms(s['p50']):>9}  p99 {_ms(s['p99']):>9}  n={s['n']}")
    after = f["latency_after_confirm_ms"]["all"]
    lines.append(
        f"  (hop latency: start of the sender's handler, or the filing, to start of the receiver's handler; "
        f"from the sender's broker confirm instead: p50 {_ms(after['p50'])}, p99 {_ms(after['p99'])}, a lower "
        f"bound since the receiver may start before the sender sees the confirm. X->X hops are the "
        f"agency's simulated back-office acts, through the broker to its own queue.)"
    )
    for agency, value in f["peak_rss_mib"].items():
        lines.append(f"peak RSS {agency}: {'-' if value is None else f'{value:.1f} MiB'}")
    if f["error_queue"] or f["unrouted"]:
        lines.append(f"WARNING: {f['error_queue']} message(s) in the error queue, {f['unrouted']} unrouted")
    recovery = f.get("recovery")
    if recovery:
        lines.append(
            f"recovery: broker back (port answering) -> first filing confirmed "
            f"{recovery['first_filing_confirmed_s']:.2f} s -> first message consumed by the DT-OFII "
            f"{'-' if recovery.get('first_consumed_s') is None else format(recovery['first_consumed_s'], '.2f')} s"
        )
    sup = f.get("supervision")
    if sup:
        lag = sup["lag_ms"]
        caught = "not within the wait" if sup["caught_up_s"] is None else f"{sup['caught_up_s']:.2f} s"
        lines.append(
            f"supervision: {sup['copies']} audit copies, lag p50 {_ms(lag['p50'])} p95 {_ms(lag['p95'])} "
            f"max {_ms(lag['max'])}; {sup['dossiers_in_store']} dossiers handed over in its store, "
            f"{caught} after the bus's last"
        )
    raw = f.get("raw")
    if raw:
        lines.append(
            f"raw relay: {raw['hops']} hops, body {raw['body_bytes']} bytes, messages/s "
            f"{raw['messages_per_s']:.2f}  ({raw['messages']} messages in {raw['wall_s']:.2f} s, "
            f"{raw['processes']} processes, prefetch {f['relay_prefetch']}, "
            f"latency per hop p50 {_ms(raw['latency_ms']['p50'])} p99 {_ms(raw['latency_ms']['p99'])}, "
            f"peak RSS per relay {raw['peak_rss_mib_max']} MiB)"
        )
    if f.get("ratio") is not None:
        lines.append(f"ratio bus/raw: {f['ratio']:.2f}")
    else:
        lines.append("ratio bus/raw: - (not measured)")
    return "\n".join(lines)
