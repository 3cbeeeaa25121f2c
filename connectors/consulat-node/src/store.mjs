// The consulate's own register, one JSON file: its dossiers, the ids of the messages it
// processed, its open tasks and its outbox. A delivery's effects are written (file replaced whole,
// fsynced) before the delivery is acknowledged, so a redelivered message is found among the
// processed ids and changes nothing, and nothing the consulate decided to send is lost in a crash.
//
// Its records: each message it processed, or receipt it kept, is record `seq` of a hash chain
// kept in the store (`records`, `head`): the SHA-256 of the RFC 8785 canonical JSON of the record
// (RECORD_FIELDS, `prev_hash` the hash of the record before, `canonical` "consulat-node-1"). It
// is not guichet's journal (no record of what it sent, no signed anchors): it is what the receipts
// the consulate returns name (`record_seq`, `record_hash`), the message's hash in it being that of
// the bytes received. `sent` keeps, for each message published to another party, its recipient and
// the SHA-256 of the bytes published, against which the receipts returned for it are checked;
// `receipts` keeps those receipts, their bytes as received.

import canonicalize from 'canonicalize';
import crypto from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export const RECORD_FORM = 'consulat-node-1';
const RECORD_FIELDS = ['seq', 'direction', 'message_id', 'dossier_id', 'type', 'sender', 'recorded_at', 'message_hash', 'prev_hash'];
const GENESIS = '0'.repeat(64);

/** A record's hash: SHA-256 of RFC 8785 of its fields and its form. */
export function recordHash (record) {
  const fields = Object.fromEntries(RECORD_FIELDS.map((f) => [f, record[f] ?? null]));
  return crypto.createHash('sha256').update(canonicalize({ ...fields, canonical: RECORD_FORM })).digest('hex');
}

export class Store {
  constructor (file) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    const empty = { dossiers: {}, processed: {}, outbox: [], records: [], head: { seq: 0, hash: GENESIS }, sent: {}, receipts: {} };
    this.data = existsSync(file) ? { ...empty, ...JSON.parse(readFileSync(file, 'utf8')) } : empty;
  }

  /**
   * The next record of the chain for a message processed (`in`) or a receipt kept (`receipt`),
   * not yet written: commit() writes it with the delivery's other effects.
   */
  nextRecord (direction, envelope, bytesHash, recordedAt) {
    const record = {
      seq: this.data.head.seq + 1,
      direction,
      message_id: envelope.message_id,
      dossier_id: envelope.dossier_id,
      type: envelope.type,
      sender: envelope.sender.agency,
      recorded_at: recordedAt,
      message_hash: bytesHash,
      prev_hash: this.data.head.hash,
      canonical: RECORD_FORM,
    };
    return { ...record, hash: recordHash(record) };
  }

  /** What this store knows it sent (or is about to send) under `messageId`: {recipient, type, dossier_id, message_hash}; else null. */
  sentMessage (messageId) {
    if (Object.hasOwn(this.data.sent, messageId)) return this.data.sent[messageId];
    const row = this.data.outbox.find((r) => r.envelope.message_id === messageId && r.message_hash);
    return row ? { recipient: row.envelope.recipient, type: row.envelope.type, dossier_id: row.envelope.dossier_id, message_hash: row.message_hash } : null;
  }

  receipt (messageId) { return this.data.receipts[messageId] || null; }

  /** A receipt checked: kept, its bytes as received, with its record, committed together. */
  keepReceipt (envelope, body, record) {
    this.data.receipts[envelope.payload.message_id] = {
      receipt_id: envelope.message_id,
      receiver: envelope.sender.agency,
      record_seq: record.seq,
      body,
    };
    this.commit({ messageId: envelope.message_id, record });
  }

  processed (messageId) { return Object.hasOwn(this.data.processed, messageId); }

  dossier (id) { return this.data.dossiers[id] || null; }

  /** Commit one delivery: the dossier's new state, the processed id and what it sends, together. */
  commit ({ messageId, dossierId = null, dossier = null, outgoing = [], withdrawTasks = [], record = null }) {
    this.data.processed[messageId] = Date.now();
    if (record !== null) {
      this.data.records.push(record);
      this.data.head = { seq: record.seq, hash: record.hash };
    }
    if (dossierId !== null && dossier !== null) this.data.dossiers[dossierId] = dossier;
    if (withdrawTasks.length) {
      // A closed task takes its pending reminders with it, so none fires after the step ended.
      this.data.outbox = this.data.outbox.filter((row) => !(row.dossier_id === dossierId && row.task && withdrawTasks.includes(row.task)));
    }
    this.data.outbox.push(...outgoing);
    this.save();
  }

  /** The rows due at `nowMs` (bus time), in the order they fall due. */
  due (nowMs) {
    return this.data.outbox.filter((row) => row.due_ms <= nowMs).sort((a, b) => a.due_ms - b.due_ms || a.seq - b.seq);
  }

  nextDueMs () {
    return this.data.outbox.reduce((min, row) => Math.min(min, row.due_ms), Infinity);
  }

  /** A row is removed only after the broker confirmed it. */
  sent (messageId) {
    const row = this.data.outbox.find((r) => r.envelope.message_id === messageId);
    if (row && row.message_hash) {
      this.data.sent[messageId] = { recipient: row.envelope.recipient, type: row.envelope.type, dossier_id: row.envelope.dossier_id, message_hash: row.message_hash };
    }
    this.data.outbox = this.data.outbox.filter((r) => r.envelope.message_id !== messageId);
    this.save();
  }

  save () {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(this.data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
