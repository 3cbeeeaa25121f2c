// Signed receipts on their own: the receipt the consulate returns (its payload as the AsyncAPI
// document publishes it, the hash of the bytes received, its record in the store's chain), and
// the check of the receipts it is returned against what it published. The schemas folder is named
// by GUICHET_SCHEMAS (`guichet schemas export --out DIR`).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import { isReceipt, mismatch, receiptFor, sha256, wanted } from '../src/receipts.mjs';
import { recordHash, Store } from '../src/store.mjs';
import { Contract } from '../src/validation.mjs';

const SCHEMAS = process.env.GUICHET_SCHEMAS;
const TRANSMISSION = {
  message_id: '01900000-0000-7000-8000-00000000000a', type: 'ofii.transmission_consulat', version: 1,
  dossier_id: 'D-1', causation_id: null, sender: { agency: 'ofii', office: 'DT-OFII Paris' }, recipient: 'consulat',
  sent_at: '2026-03-02T09:30:00+01:00', deadline: null, facts: null, payload: {}, canonical: null, key_id: null, signature: null,
};
const store = () => new Store(path.join(mkdtempSync(path.join(tmpdir(), 'consulat-receipts-')), 'consulat-node.json'));

test('what is acknowledged: a message from another administration, never a receipt nor its own', () => {
  assert.ok(wanted('consulat', TRANSMISSION));
  assert.ok(!wanted('consulat', { ...TRANSMISSION, sender: { agency: 'travailleur' }, type: 'travailleur.demande_competences_talents' }));
  assert.ok(!wanted('consulat', { ...TRANSMISSION, sender: { agency: 'consulat' }, type: 'consulat.veille.echeance' }));
  assert.ok(!wanted('consulat', { ...TRANSMISSION, type: 'ofii.accuse_reception' }));
  assert.ok(isReceipt('ofii.accuse_reception') && !isReceipt('ofii.accuse_reception.x') && !isReceipt('smoe.accuse_depot'));
});

test('the receipt names the bytes received and the record of the store chain they are in', { skip: !SCHEMAS && 'GUICHET_SCHEMAS is not set' }, () => {
  const s = store();
  const bytes = Buffer.from(JSON.stringify(TRANSMISSION), 'utf8');
  const first = s.nextRecord('in', TRANSMISSION, sha256(bytes), '2026-03-02T09:31:00+01:00');
  assert.equal(first.seq, 1);
  assert.equal(first.prev_hash, '0'.repeat(64));
  const { hash, ...fields } = first;
  assert.equal(hash, crypto.createHash('sha256').update(canonicalize(fields)).digest('hex'));
  s.commit({ messageId: TRANSMISSION.message_id, record: first });
  const second = s.nextRecord('in', { ...TRANSMISSION, message_id: '01900000-0000-7000-8000-00000000000b' }, sha256(bytes), '2026-03-02T09:32:00+01:00');
  assert.equal(second.seq, 2);
  assert.equal(second.prev_hash, first.hash);
  assert.equal(recordHash({ ...second, type: 'other' }) === second.hash, false);

  const receipt = receiptFor('consulat', 'Consulat de France (IND)', TRANSMISSION, bytes, first, Date.parse('2026-03-02T08:31:00Z'));
  assert.equal(receipt.type, 'consulat.accuse_reception');
  assert.equal(receipt.recipient, 'ofii');
  assert.equal(receipt.causation_id, TRANSMISSION.message_id);
  assert.deepEqual(receipt.payload, {
    message_id: TRANSMISSION.message_id,
    type: 'ofii.transmission_consulat',
    message_hash: crypto.createHash('sha256').update(bytes).digest('hex'),
    received_at: '2026-03-02T09:31:00+01:00',
    record_seq: 1,
    record_hash: first.hash,
  });
  const contract = new Contract(SCHEMAS, 'consulat');
  assert.deepEqual(contract.receiptPayload(receipt.payload), receipt.payload);
  assert.throws(() => contract.receiptPayload({ ...receipt.payload, record_seq: 0 }));
});

test('a receipt of the bytes the consulate published is accepted; of other bytes or of nothing it sent, refused', () => {
  const s = store();
  const decision = { ...TRANSMISSION, message_id: '01900000-0000-7000-8000-0000000000c1', type: 'consulat.decision_visa', sender: { agency: 'consulat' }, recipient: 'ofii' };
  const published = sha256(Buffer.from(JSON.stringify(decision), 'utf8'));
  s.commit({ messageId: TRANSMISSION.message_id, outgoing: [{ envelope: decision, dossier_id: 'D-1', due_ms: 0, task: null, seq: 0, message_hash: published }] });
  const receipt = (payload, signer = 'ofii') => ({ ...TRANSMISSION, type: `${signer}.accuse_reception`, sender: { agency: signer }, payload });
  const good = { message_id: decision.message_id, message_hash: published };
  // Before the broker's confirm is recorded (from the outbox) and after it (kept as sent).
  assert.equal(mismatch('consulat', receipt(good), s.sentMessage(decision.message_id)), null);
  s.sent(decision.message_id);
  assert.equal(s.data.outbox.length, 0);
  assert.equal(mismatch('consulat', receipt(good), s.sentMessage(decision.message_id)), null);
  assert.match(mismatch('consulat', receipt({ ...good, message_hash: '0'.repeat(64) }), s.sentMessage(decision.message_id)), /not that of the bytes consulat sent/);
  assert.match(mismatch('consulat', receipt(good, 'smoe'), s.sentMessage(decision.message_id)), /sent to another party/);
  assert.match(mismatch('consulat', receipt({ ...good, message_id: '01900000-0000-7000-8000-0000000000ff' }), s.sentMessage('01900000-0000-7000-8000-0000000000ff')), /never sent/);
});

test('receipts addressed to the consulate are known only in signed mode, and validated strictly', { skip: !SCHEMAS && 'GUICHET_SCHEMAS is not set' }, () => {
  const payload = { message_id: TRANSMISSION.message_id, type: 'consulat.decision_visa', message_hash: 'a'.repeat(64), received_at: '2026-03-02T09:31:00+01:00', record_seq: 3, record_hash: 'b'.repeat(64) };
  const body = (p) => Buffer.from(JSON.stringify({ ...TRANSMISSION, type: 'ofii.accuse_reception', payload: p }));
  assert.equal(new Contract(SCHEMAS, 'consulat').decode(body(payload), {}).payload.record_seq, 3);
  assert.throws(() => new Contract(SCHEMAS).decode(body(payload), {}), { reason: 'unknown_type' });
  assert.throws(() => new Contract(SCHEMAS, 'consulat').decode(body({ ...payload, message_hash: 'xyz' }), {}), { reason: 'invalid_payload' });
  assert.throws(() => new Contract(SCHEMAS, 'consulat').decode(body({ ...payload, extra: 1 }), {}), { reason: 'invalid_payload' });
});
