#!/usr/bin/env node
// A guichet dossier proof checked offline, in Node.js, from docs/proof.md alone: every record's
// hash and link, every anchor's signature, that each record of the dossier reaches a signed
// anchor, that each message kept is the one its record proves and carries its sender's signature,
// and that each receipt acknowledges the bytes sent.
//
//   node verify.mjs PROOF.json --key-directory DIRECTORY.json [--json]
//
// Exit 0 when everything holds, 1 naming each failure (`FAILS: ...`), 2 for bad usage or a file
// that cannot be read.
import crypto from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';

const PROOF = 'guichet-dossier-proof';
const FORMAT = 1;
const FIELDS = ['seq', 'direction', 'message_id', 'dossier_id', 'type', 'sender', 'recipient', 'sent_at',
  'deadline', 'recorded_at', 'body_hash', 'prev_hash'];
const KEPT_FIELDS = ['message_hash', 'state_hash'];
const FORMS = new Set([null, 'rfc8785', 'rfc8785-2']);
const SUBJECT_PARTIES = new Set(['employeur']);
const RECEIPT = 'receipt';
const isReceipt = (type) => type.endsWith('.accuse_reception') && type.split('.').length === 2;

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const textHash = (text) => (text === null || text === undefined ? null : sha256(Buffer.from(text, 'utf8')));
const own = (object, key) => (Object.prototype.hasOwnProperty.call(object, key) ? object[key] : null);

// ISO 8601 instants as Python's datetime.fromisoformat reads them, to the microsecond (a Date
// keeps milliseconds only, and validity is judged at the instant's edge). A time without its
// offset cannot be compared with the key directory's: null.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?(?:([zZ])|([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?)$/;
export function micros (text) {
  const m = typeof text === 'string' ? INSTANT.exec(text) : null;
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh, om, os = '0'] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(ms)) return null;
  const offset = z ? 0 : (sign === '-' ? -1 : 1) * ((+oh * 60 + +om) * 60 + +os);
  return (ms / 1000 - offset) * 1e6 + Number(frac.padEnd(6, '0'));
}

/** The record's hash in the form its `canonical` field names (docs/proof.md, check 1). */
export function recordHash (record) {
  const form = own(record, 'canonical');
  const value = (f) => own(record, f);
  if (form === 'rfc8785-2') {
    return sha256(canonicalize(Object.fromEntries([...FIELDS, ...KEPT_FIELDS, 'canonical'].map((f) => [f, value(f)]))));
  }
  if (form === 'rfc8785') {
    return sha256(canonicalize(Object.fromEntries([...FIELDS, 'canonical'].map((f) => [f, value(f)]))));
  }
  // Legacy: Python's compact json.dumps (ensure_ascii=False) of the twelve values, which
  // JSON.stringify writes alike for the strings, integers and nulls a record holds.
  return sha256(Buffer.from(JSON.stringify(FIELDS.map(value)), 'utf8'));
}

class Directory {
  constructor (raw) {
    this.keys = new Map(raw.keys.map((e) => [e.key_id, {
      party: e.party,
      key_id: e.key_id,
      public_key: e.public_key,
      subject: e.subject || null,
      validFrom: micros(e.valid_from),
      validUntil: e.valid_until ? micros(e.valid_until) : null,
    }]));
  }

  get (keyId) { return this.keys.get(keyId) || null; }
}

const withdrawnAt = (entry, at) => entry.validUntil !== null && at >= entry.validUntil;
const validAt = (entry, at) => entry.validFrom !== null && entry.validFrom <= at && !withdrawnAt(entry, at);

function verifies (entry, signature, bytes) {
  try {
    const x = Buffer.from(entry.public_key, 'base64').toString('base64url');
    const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    return crypto.verify(null, Buffer.from(bytes, 'utf8'), key, Buffer.from(String(signature), 'base64'));
  } catch {
    return false;
  }
}

/** Why an anchor is not its agency's (check 2); null when it is. */
function anchorProblem (directory, agency, anchor) {
  const entry = directory.get(String(anchor.key_id));
  if (entry === null || entry.party !== agency) return `key '${anchor.key_id}' is not a key of ${agency} in the key directory`;
  const at = micros(anchor.signed_at);
  if (at === null || !validAt(entry, at)) return `key ${entry.key_id} was not valid at ${anchor.signed_at}`;
  const statement = {
    kind: 'journal_anchor',
    canonical: 'rfc8785',
    agency,
    seq: Number(anchor.seq),
    head: anchor.head,
    signed_at: anchor.signed_at,
    key_id: anchor.key_id,
  };
  if (!verifies(entry, anchor.signature, canonicalize(statement))) return 'its signature does not match its content (InvalidSignature)';
  return null;
}

/** Why a kept message is not its sender's signed envelope, judged when it was recorded (check 4). */
function originProblem (directory, body, record) {
  let envelope;
  try {
    envelope = JSON.parse(body);
  } catch {
    return 'the message kept is not an envelope';
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope) ||
      typeof envelope.sender !== 'object' || envelope.sender === null || typeof envelope.type !== 'string') {
    return 'the message kept is not an envelope';
  }
  if (String(envelope.message_id).toLowerCase() !== String(record.message_id).toLowerCase()) {
    return 'the message kept is not the one the record names';
  }
  const refused = (reason, why) => `the sender's signature does not hold (${reason}: ${why})`;
  const sender = envelope.sender.agency;
  if (!envelope.signature || !envelope.key_id) return refused('unsigned', `${envelope.type} from ${sender} is not signed`);
  const entry = directory.get(envelope.key_id);
  if (entry === null || entry.party !== sender) return refused('wrong_sender_key', `key '${envelope.key_id}' is not a key of ${sender}`);
  if (SUBJECT_PARTIES.has(sender) && entry.subject === null) return refused('wrong_sender_key', `key ${entry.key_id} is a shared ${sender} key`);
  if (entry.subject !== null && entry.subject !== (envelope.sender.office ?? null)) {
    return refused('wrong_sender_key', `key ${entry.key_id} is not a key of the ${sender} this envelope names`);
  }
  const recordedAt = micros(record.recorded_at);
  if (recordedAt === null || withdrawnAt(entry, recordedAt)) {
    return refused('expired_key', `key ${entry.key_id} was withdrawn at ${record.recorded_at}`);
  }
  const sentAt = micros(envelope.sent_at);
  if (sentAt === null || !validAt(entry, sentAt)) return refused('expired_key', `key ${entry.key_id} is not valid at ${envelope.sent_at}`);
  if (envelope.canonical !== 'rfc8785') return refused('bad_signature', `canonical form ${envelope.canonical} is not rfc8785`);
  const { signature, ...signed } = envelope;
  if (!verifies(entry, signature, canonicalize(signed))) {
    return refused('bad_signature', `the signature of ${envelope.type} does not match its content (InvalidSignature)`);
  }
  return null;
}

function byseq (part) {
  const records = new Map();
  for (const r of part.records || []) records.set(Number(r.seq), r);
  return new Map([...records.entries()].sort(([a], [b]) => a - b));
}

function checkChain (agency, records, anchors, directory, dossierId, report) {
  for (const [seq, record] of records) {
    if (!FORMS.has(own(record, 'canonical'))) report.problems.push(`${agency}: record ${seq} names an unknown hash form`);
    else if (recordHash(record) !== record.hash) report.problems.push(`${agency}: record ${seq} was altered (its hash does not match its content)`);
    const before = records.get(seq - 1);
    if (before !== undefined && record.prev_hash !== before.hash) report.problems.push(`${agency}: record ${seq} does not follow record ${seq - 1}`);
  }
  const proven = new Set();
  for (const anchor of anchors) {
    const seq = Number(anchor.seq);
    const problem = anchorProblem(directory, agency, anchor);
    if (problem !== null) report.problems.push(`${agency}: the anchor of record ${seq} is not ${agency}'s: ${problem}`);
    else if (!records.has(seq) || records.get(seq).hash !== anchor.head) report.problems.push(`${agency}: record ${seq} does not have the hash ${agency} signed`);
    else proven.add(seq);
  }
  const mine = [...records.entries()].filter(([, r]) => r.dossier_id === dossierId).map(([seq]) => seq);
  for (const seq of mine) {
    let at = seq;
    while (!proven.has(at) && records.has(at + 1)) at += 1;
    if (!proven.has(at)) report.problems.push(`${agency}: record ${seq} of the dossier reaches no anchor ${agency} signed`);
  }
  report.checked[agency] = mine.length;
}

function checkKept (agency, records, kept, directory, dossierId, report) {
  for (const [seq, record] of records) {
    if (record.dossier_id !== dossierId) continue;
    const here = own(kept, String(seq));
    if (own(record, 'canonical') === 'rfc8785-2') {
      let problem = null;
      if (here === null) problem = `record ${seq} has no kept message (journal_messages)`;
      else if (own(here, 'erased_at') === null && textHash(own(here, 'body')) !== own(record, 'message_hash')) {
        problem = `record ${seq}: the message kept is not the one it journaled (message_hash)`;
      } else if (own(here, 'erased_at') === null && textHash(own(here, 'state')) !== own(record, 'state_hash')) {
        problem = `record ${seq}: the state kept is not the one it journaled (state_hash)`;
      }
      if (problem !== null) {
        report.problems.push(`${agency}: ${problem}`);
        continue;
      }
    }
    if (here === null || own(here, 'erased_at') !== null || own(here, 'body') === null) {
      if (here !== null && own(here, 'erased_at') !== null) report.facts.push(`${agency}: record ${seq}: message erased (${here.erasure_reason ?? 'None'})`);
      continue;
    }
    const problem = originProblem(directory, here.body, record);
    if (problem !== null) report.problems.push(`${agency}: record ${seq}: ${problem}`);
  }
}

function receiptPayload (body) {
  try {
    const payload = JSON.parse(body).payload;
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload : null;
  } catch {
    return null;
  }
}

function checkReceipts (agency, part, dossierId, incoming, report) {
  const records = byseq(part);
  const kept = part.kept || {};
  const sent = new Map();
  for (const r of records.values()) if (r.direction === 'out') sent.set(r.message_id, r);
  const acknowledged = new Set();
  for (const [seq, record] of records) {
    const body = own(own(kept, String(seq)) || {}, 'body');
    if (record.direction !== RECEIPT || body === null) continue;
    const payload = receiptPayload(body);
    if (payload === null) continue; // not an envelope: check 4 said so
    const receiver = record.sender;
    const messageId = payload.message_id;
    const out = sent.get(messageId);
    if (out === undefined) {
      report.facts.push(`${agency}: receipt of ${receiver} for message ${messageId}, not sent in this proof`);
      continue;
    }
    if (out.recipient !== receiver || own(out, 'message_hash') !== payload.message_hash) {
      report.problems.push(`${agency}: the receipt of ${receiver} for message ${messageId} does not acknowledge the bytes sent`);
      continue;
    }
    acknowledged.add(messageId);
    const theirs = (incoming.get(receiver) || new Map()).get(messageId);
    if (theirs !== undefined && (own(theirs, 'message_hash') !== payload.message_hash ||
        Number(theirs.seq) !== payload.record_seq || theirs.hash !== payload.record_hash)) {
      report.problems.push(`${receiver}: its record of message ${messageId} is not the one its receipt to ${agency} names`);
    }
    report.facts.push(`${agency}: message ${out.type} to ${receiver} acknowledged at ${payload.received_at}`);
  }
  for (const [messageId, out] of sent) {
    // Nothing acknowledges a receipt, nor a message an agency sends itself (its own acts, reminders).
    const expected = out.recipient !== agency && !isReceipt(String(out.type));
    if (expected && out.dossier_id === dossierId && !acknowledged.has(messageId)) {
      report.facts.push(`${agency}: message ${out.type} to ${out.recipient}: no receipt in this proof`);
    }
    if (!acknowledged.has(messageId) && incoming.has(out.recipient) && out.recipient !== agency) {
      const theirs = incoming.get(out.recipient).get(messageId);
      if (theirs !== undefined && own(theirs, 'message_hash') !== own(out, 'message_hash')) {
        report.problems.push(`${out.recipient}: received other bytes than ${agency} sent for message ${messageId}`);
      }
    }
  }
}

/** The report of a proof against a key directory: {problems, facts, checked}. */
export function verifyProof (proof, rawDirectory) {
  const report = { problems: [], facts: [], checked: {} };
  if (proof.proof !== PROOF || proof.format !== FORMAT) {
    report.problems.push(`not a dossier proof of format ${FORMAT} (proof ${JSON.stringify(proof.proof ?? null)})`);
    return report;
  }
  const directory = new Directory(rawDirectory);
  const dossierId = String(proof.dossier_id);
  const journals = proof.journals || {};
  const incoming = new Map(); // agency -> message_id -> its `in` record
  for (const [agency, part] of Object.entries(journals)) {
    const records = byseq(part);
    const ins = new Map();
    for (const r of records.values()) if (r.direction === 'in') ins.set(r.message_id, r);
    incoming.set(agency, ins);
    checkChain(agency, records, part.anchors || [], directory, dossierId, report);
    checkKept(agency, records, part.kept || {}, directory, dossierId, report);
  }
  for (const [agency, part] of Object.entries(journals)) checkReceipts(agency, part, dossierId, incoming, report);
  return report;
}

function usage (why) {
  process.stderr.write(`${why}\nusage: node verify.mjs PROOF.json --key-directory DIRECTORY.json [--json]\n`);
  process.exit(2);
}

function readJson (file, what) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    usage(`${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    usage(`${file}: not JSON (${err.message})`);
  }
  return usage(`${file}: not ${what}`);
}

function main (argv) {
  let file = null; let directoryFile = null; let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--key-directory') directoryFile = argv[++i] ?? usage('--key-directory needs a file');
    else if (arg.startsWith('--key-directory=')) directoryFile = arg.slice('--key-directory='.length);
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (file === null) file = arg;
    else usage(`one proof at a time (${arg})`);
  }
  if (file === null) usage('the proof file is needed');
  if (!directoryFile) usage('--key-directory is needed: a proof is checked against the keys its signers published');
  const rawDirectory = readJson(directoryFile, 'a key directory');
  if (!rawDirectory || !Array.isArray(rawDirectory.keys)) usage(`${directoryFile}: not a key directory`);
  const proof = readJson(file, 'a dossier proof');
  if (proof === null || typeof proof !== 'object' || Array.isArray(proof)) usage(`${file}: not a dossier proof (a JSON object is expected)`);
  let report;
  try {
    report = verifyProof(proof, rawDirectory);
  } catch (err) {
    // A member missing or of another shape than docs/proof.md gives: the proof does not hold.
    report = { problems: [`the proof is not as docs/proof.md describes it (${err.message})`], facts: [], checked: {} };
  }
  const holds = report.problems.length === 0;
  if (json) {
    process.stdout.write(`${JSON.stringify({ holds, ...report }, null, 2)}\n`);
  } else {
    for (const line of report.facts) process.stdout.write(`  ${line}\n`);
    const checked = Object.entries(report.checked).map(([a, n]) => `${a}: ${n} records`).join(', ');
    if (holds) process.stdout.write(`proof of ${proof.dossier_id} holds (${checked})\n`);
    for (const line of report.problems) process.stdout.write(`FAILS: ${line}\n`);
  }
  process.exit(holds ? 0 : 1);
}

// Run as a command (also through the package's bin link), not when imported.
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : null;
if (invoked === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
