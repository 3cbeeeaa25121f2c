// The one envelope every message travels in (guichet's envelope.schema.json). Built with every
// field present, `null` where absent, as the Python agencies write it.

import crypto from 'node:crypto';
import { isoParis } from './clock.mjs';

/** A UUID of version 7 (RFC 9562): ids made one after another sort one after another. */
export function newMessageId () {
  const bytes = crypto.randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * An envelope for `message` (a catalogue entry: {type, version, recipient}) about `cause`'s dossier:
 * causation_id is the message it answers, dossier_id unchanged, the dossier's facts carried on.
 */
export function wrap ({ type, version, recipient }, payload, { cause, sender, sentAtMs, deadlineMs = null, facts = null }) {
  return {
    message_id: newMessageId(),
    type,
    version,
    dossier_id: cause.dossier_id,
    causation_id: cause.message_id,
    sender: { agency: sender.agency, office: sender.office ?? null },
    recipient,
    sent_at: isoParis(sentAtMs),
    deadline: deadlineMs === null ? null : isoParis(deadlineMs),
    facts: facts ?? null,
    payload,
    canonical: null,
    key_id: null,
    signature: null,
  };
}

export function routingKey (envelope) {
  return `${envelope.recipient}.${envelope.type}`;
}

/** The AMQP headers the bus sets; a receiver refuses a message whose headers disagree with its body. */
export function headers (envelope) {
  return {
    type: envelope.type,
    version: envelope.version,
    dossier_id: envelope.dossier_id,
    sender: envelope.sender.agency,
    // A double, not a 64-bit integer: every common AMQP client decodes it (field-table tag 'd').
    timestamp_in_ms: { '!': 'double', value: Date.now() },
  };
}
