// The consulate of France in the worker's country of residence: the long-stay visa (circulaire
// 2012, II.A.2 and II.B). What it receives, what it sends back, and the consul's decision, which
// simulated actors play from the filing's facts when they are on (tests and demonstrations only).
//
//   ofii.transmission_consulat           opens the dossier; the consul decides within 15 days (II.B)
//   travailleur.demande_competences_talents
//                                        opens the dossier (II.A.2); no deadline binds it
//   consulat.agent.decision_visa         the consul's decision, once, while the visa is to be decided:
//                                        -> consulat.decision_competences_talents (compétences et talents)
//                                        -> consulat.decision_visa
//                                        -> consulat.transmission_dossier_ofii (compétences et talents, granted)
//   consulat.veille.echeance             its own reminder of the 15 days, sent to itself:
//                                        -> consulat.alerte.delai while the decision is pending (II.E.1)

import canonicalize from 'canonicalize';
import { addDays, datePlusDays, isoParis, parisDate, parseInstant } from './clock.mjs';
import { Refusal } from './signing.mjs';

export const AGENCY = 'consulat';
const VISA_DAYS = 15;
const DECISION_VISA_TASK = 'decision_visa';
const VISA_MENTIONS = {
  salarie_en_mission: 'visa de long séjour « salarié en mission »',
  carte_bleue_europeenne: 'visa de long séjour « carte bleue européenne »',
  competences_et_talents: 'CESEDA L.315-1',
  jeune_professionnel: 'visa de long séjour « jeune professionnel »',
};
// The facts the consul's simulated decision reads, with the defaults of the scenario contract.
const FACT_DEFAULTS = { visa_instruction_days: 10, visa_granted: true, visa_validity_days: 365 };
// II.E.1: warn when a fifth of the legal period is left (at least an hour before), and just after it.
const WARNING_SHARE = 0.2;
const WARNING_MIN_MS = 3600000;
const OPENING = new Set(['ofii.transmission_consulat', 'travailleur.demande_competences_talents']);

/** II.B: the consulate of the worker's country of residence abroad (of nationality failing an address). */
export function competentConsulate (dossier) {
  const address = dossier.worker.address_abroad;
  const country = address && address.country ? address.country : dossier.worker.nationality;
  return `Consulat de France (${country})`;
}

/**
 * Handle one admitted envelope at bus time `nowMs`, on the dossier as held (null if none).
 * Returns {dossier, send: [{type, payload, deadlineMs, dueMs, task, senderOffice}], close: [task]}
 * or throws a Refusal when the consulate's state machine does not let it in.
 */
export function handle (envelope, held, nowMs, { simulatedActors, scale = 1 }) {
  const type = envelope.type;
  const what = `${type} for dossier ${JSON.stringify(envelope.dossier_id)}`;
  judgeDate(envelope, nowMs, scale, what);
  if (held === null && !OPENING.has(type)) {
    throw new Refusal('unknown_dossier', `${what}: the consulat does not hold this dossier`);
  }
  if (held !== null && OPENING.has(type)) {
    if (held.opened_by === contentKey(envelope)) return { absorbed: `${what} repeats the filing the consulat holds` };
    throw new Refusal('dossier_already_filed', `${what}: the consulat already holds this dossier, filed with another content`);
  }
  const facts = held?.facts ?? envelope.facts ?? null;
  switch (type) {
    case 'ofii.transmission_consulat': return opened(envelope, nowMs, facts, simulatedActors, true);
    case 'travailleur.demande_competences_talents': return opened(envelope, nowMs, facts, simulatedActors, false);
    case 'consulat.agent.decision_visa': return decision(envelope, held, nowMs, what);
    case 'consulat.veille.echeance': return reminder(envelope, held);
    default: throw new Refusal('not_for_this_agency', `consulat has no handler for ${type}`);
  }
}

// How far a sender's date may stray from this receiver's clock (guichet/receipt.py): ahead by more
// than five minutes (never less than two real seconds on a compressed clock) is impossible; older
// than a year of real time is stale. Behind by less: the message waited in a queue, and is let in.
const TOLERANCE_MS = 5 * 60000;
const REAL_TOLERANCE_MS = 2000;
const WINDOW_MS = 366 * 86400000;

function judgeDate (envelope, nowMs, scale, what) {
  const ahead = parseInstant(envelope.sent_at) - nowMs;
  const limit = Math.max(TOLERANCE_MS, REAL_TOLERANCE_MS * scale);
  if (ahead > limit) throw new Refusal('dated_in_future', `${what} is dated ${envelope.sent_at}, ahead of this receiver's clock by more than ${limit / 1000} s`);
  if (-ahead > WINDOW_MS * scale) throw new Refusal('stale', `${what} is dated ${envelope.sent_at}, older than the window of 366 days`);
}

function contentKey (envelope) {
  return `${envelope.type} ${canonicalize(envelope.payload)}`;
}

function opened (envelope, nowMs, facts, simulatedActors, stamped) {
  const p = envelope.payload;
  // II.B: deadlines run from receipt, on the consulate's own clock; the sender's sent_at and
  // deadline are never believed.
  const deadlineMs = stamped ? addDays(nowMs, VISA_DAYS) : null;
  const dossier = {
    dossier: p.dossier,
    family: stamped ? p.family : p.dossier.family,
    stamp: stamped ? p.stamp : null,
    received_at: isoParis(nowMs),
    deadline_ms: deadlineMs,
    decided: false,
    granted: null,
    facts,
    opened_by: contentKey(envelope),
    open_tasks: [DECISION_VISA_TASK],
  };
  const send = [];
  // The consul's act goes before the reminders: a decision due at the very instant the time
  // limit runs out is within it.
  if (simulatedActors) {
    const f = { ...FACT_DEFAULTS, ...(facts || {}) };
    send.push({
      type: 'consulat.agent.decision_visa',
      payload: { granted: f.visa_granted, validity_days: f.visa_validity_days, reason: f.visa_granted ? null : 'refus consulaire' },
      dueMs: addDays(nowMs, f.visa_instruction_days),
      senderOffice: 'simulation',
    });
  }
  if (deadlineMs !== null) {
    const warnMs = Math.max(deadlineMs - Math.max((deadlineMs - nowMs) * WARNING_SHARE, WARNING_MIN_MS), nowMs);
    for (const [kind, dueMs] of [['avertissement', warnMs], ['depassement', deadlineMs + 1000]]) {
      send.push({
        type: 'consulat.veille.echeance',
        payload: { task: DECISION_VISA_TASK, step: DECISION_VISA_TASK, kind, deadline: isoParis(deadlineMs) },
        dueMs,
        task: DECISION_VISA_TASK,
      });
    }
  }
  return { dossier, send, close: [] };
}

function decision (envelope, held, nowMs, what) {
  if (held.decided) throw new Refusal('unexpected_step', `${what}: the visa is already decided; the consul's decision is accepted once`);
  const act = envelope.payload;
  const d = { ...held, decided: true, granted: act.granted, open_tasks: held.open_tasks.filter((t) => t !== DECISION_VISA_TASK) };
  const deadlineMs = held.deadline_ms;
  const competencesTalents = held.dossier.title === 'competences_et_talents';
  const send = [];
  if (competencesTalents) {
    // II.A.2, R.315-7: the consul alone decides on the card itself.
    send.push({
      type: 'consulat.decision_competences_talents',
      payload: { favorable: act.granted, reason: act.reason ?? null, dossier: held.dossier, applied_at: held.received_at },
      deadlineMs,
    });
  }
  if (act.granted) {
    const validFrom = parisDate(nowMs);
    send.push({
      type: 'consulat.decision_visa',
      payload: {
        granted: true,
        visa: VISA_MENTIONS[held.dossier.title] || 'VLS-TS salarié',
        valid_from: validFrom,
        valid_until: datePlusDays(validFrom, act.validity_days ?? 365),
        family: held.family,
      },
      deadlineMs,
    });
  } else {
    send.push({ type: 'consulat.decision_visa', payload: { granted: false, reason: act.reason || 'visa refusé' }, deadlineMs });
  }
  if (competencesTalents && act.granted) send.push({ type: 'consulat.transmission_dossier_ofii', payload: { copies: 2 } });
  return { dossier: d, send, close: [DECISION_VISA_TASK] };
}

function reminder (envelope, held) {
  const r = envelope.payload;
  // II.E.1: the référent guichet unique of the DT-OFII hears of it while the step is pending.
  if (!held.open_tasks.includes(r.task)) return { dossier: held, send: [], close: [] };
  return {
    dossier: held,
    send: [{ type: 'consulat.alerte.delai', payload: { agency: AGENCY, task: r.task, step: r.step, kind: r.kind, deadline: r.deadline } }],
    close: [],
  };
}

