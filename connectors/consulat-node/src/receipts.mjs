// Signed receipts (docs/proof.md, "Signed receipts"): when the consulate processes a message another
// administration sent it, it returns in the same commit an envelope signed with its key,
// `consulat.accuse_reception`, naming the message, the SHA-256 of its bytes exactly as received,
// when it was accepted and the consulate's record of it. The receipts the administrations return
// for the consulate's own messages (`<receiver>.accuse_reception`) are checked against what the
// consulate published and kept in its store, or refused with the reason `receipt_mismatch`.
// A receipt is never acknowledged in turn; receipts travel only with signatures on.

import crypto from 'node:crypto';
import { isoParis } from './clock.mjs';
import { newMessageId } from './envelope.mjs';

export const NAME = 'accuse_reception';
// The administrations receipts are exchanged with (the people, the employer and the worker, get none).
export const ADMINISTRATIONS = new Set(['ofii', 'smoe', 'prefecture', 'consulat']);
const HASH = '^[0-9a-f]{64}$';

/** The payload of every receipt, as the AsyncAPI document publishes it (AccuseReception). */
export const RECEIPT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['message_id', 'type', 'message_hash', 'received_at', 'record_seq', 'record_hash'],
  properties: {
    message_id: { type: 'string', format: 'uuid' },
    type: { type: 'string', maxLength: 100 },
    message_hash: { type: 'string', pattern: HASH },
    received_at: { type: 'string', format: 'date-time' },
    record_seq: { type: 'integer', minimum: 1 },
    record_hash: { type: 'string', pattern: HASH },
  },
};

export const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

export const receiptType = (receiver) => `${receiver}.${NAME}`;

export function isReceipt (type) {
  return typeof type === 'string' && type.endsWith(`.${NAME}`) && type.split('.').length === 2;
}

/** Whether `agency` acknowledges this message it processed: one from another administration. */
export function wanted (agency, envelope) {
  const sender = envelope.sender.agency;
  return sender !== agency && ADMINISTRATIONS.has(sender) && !isReceipt(envelope.type);
}

/**
 * The receipt (unsigned) of `envelope`, received as `bytes` and recorded by `agency` as `record`
 * ({seq, hash}) at bus time `nowMs`.
 */
export function receiptFor (agency, office, envelope, bytes, record, nowMs) {
  const at = isoParis(nowMs);
  return {
    message_id: newMessageId(),
    type: receiptType(agency),
    version: 1,
    dossier_id: envelope.dossier_id,
    causation_id: envelope.message_id,
    sender: { agency, office: office ?? null },
    recipient: envelope.sender.agency,
    sent_at: at,
    deadline: null,
    facts: null,
    payload: {
      message_id: envelope.message_id,
      type: envelope.type,
      message_hash: sha256(bytes),
      received_at: at,
      record_seq: record.seq,
      record_hash: record.hash,
    },
    canonical: null,
    key_id: null,
    signature: null,
  };
}

/**
 * Why a receipt signed by `envelope.sender.agency` does not acknowledge a message `agency` sent
 * it, as published (`sent`: the store's record of it, or null); null when it does.
 */
export function mismatch (agency, envelope, sent) {
  const receiver = envelope.sender.agency;
  const p = envelope.payload;
  if (sent === null) return `${receiver} acknowledges message ${p.message_id}, which ${agency} never sent`;
  if (sent.recipient !== receiver) return `${receiver} acknowledges message ${p.message_id}, which ${agency} sent to another party`;
  if (sent.message_hash !== p.message_hash) {
    return `${receiver} acknowledges message ${p.message_id} with the hash ${p.message_hash.slice(0, 12)}..., not that of the bytes ${agency} sent`;
  }
  return null;
}
