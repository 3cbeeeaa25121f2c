// The consulate's own register, one JSON file: its dossiers, the ids of the messages it
// processed, its open tasks and its outbox. A delivery's effects are written (file replaced whole,
// fsynced) before the delivery is acknowledged, so a redelivered message is found among the
// processed ids and changes nothing, and nothing the consulate decided to send is lost in a crash.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export class Store {
  constructor (file) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    const empty = { dossiers: {}, processed: {}, outbox: [] };
    this.data = existsSync(file) ? { ...empty, ...JSON.parse(readFileSync(file, 'utf8')) } : empty;
  }

  processed (messageId) { return Object.hasOwn(this.data.processed, messageId); }

  dossier (id) { return this.data.dossiers[id] || null; }

  /** Commit one delivery: the dossier's new state, the processed id and what it sends, together. */
  commit ({ messageId, dossierId = null, dossier = null, outgoing = [], withdrawTasks = [] }) {
    this.data.processed[messageId] = Date.now();
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
    this.data.outbox = this.data.outbox.filter((row) => row.envelope.message_id !== messageId);
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
