// The connector's modules on their own: the published signature test vectors, signing, the Paris
// calendar, the schemas. Run with `npm test` (node's test runner); the schemas folder is named by
// GUICHET_SCHEMAS (`guichet schemas export --out DIR`).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addDays, isoParis, parisDate } from '../src/clock.mjs';
import { canonicalBytes, KeyDirectory, Refusal, Trust } from '../src/signing.mjs';
import { Contract } from '../src/validation.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const VECTORS = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'signature-test-vectors.json'), 'utf8'));

function trustWithTestKey () {
  const dir = mkdtempSync(path.join(tmpdir(), 'consulat-node-'));
  writeFileSync(path.join(dir, 'directory.json'), JSON.stringify(VECTORS.key_directory));
  writeFileSync(path.join(dir, `${VECTORS.test_only_private_key.key_id}.pem`), VECTORS.test_only_private_key.pkcs8_pem);
  return new Trust(new KeyDirectory(path.join(dir, 'directory.json')), [dir]);
}

test('the published test vectors: canonical bytes and verdicts', () => {
  const trust = trustWithTestKey();
  for (const v of VECTORS.vectors) {
    const envelope = JSON.parse(v.envelope);
    assert.equal(canonicalBytes(envelope).toString('utf8'), v.canonical, v.name);
    let verdict = 'valid';
    try { trust.verify(envelope); } catch (err) { if (!(err instanceof Refusal)) throw err; verdict = err.reason; }
    assert.equal(verdict, v.verdict, v.name);
  }
});

test('signing as this connector does gives the vectors their signature (Ed25519 is deterministic)', () => {
  const trust = trustWithTestKey();
  for (const v of VECTORS.vectors.filter((x) => x.verdict === 'valid')) {
    const { signature, canonical, key_id: keyId, ...unsigned } = JSON.parse(v.envelope);
    const signed = trust.sign({ ...unsigned, canonical: null, key_id: null, signature: null });
    assert.equal(signed.key_id, keyId);
    assert.equal(signed.signature, signature, v.name);
  }
});

test('a tampered envelope is refused bad_signature; an unsigned one unsigned', () => {
  const trust = trustWithTestKey();
  const envelope = JSON.parse(VECTORS.vectors[0].envelope);
  assert.throws(() => trust.verify({ ...envelope, dossier_id: 'TV-2' }), { reason: 'bad_signature' });
  assert.throws(() => trust.verify({ ...envelope, signature: null }), { reason: 'unsigned' });
});

test('calendar days on the Paris wall clock, across the change to summer time', () => {
  const received = Date.parse('2026-03-20T08:00:00Z'); // 09:00 in Paris, winter time
  assert.equal(isoParis(received), '2026-03-20T09:00:00+01:00');
  assert.equal(isoParis(addDays(received, 15)), '2026-04-04T09:00:00+02:00');
  assert.equal(isoParis(Date.parse('2026-03-20T08:00:00.250Z')), '2026-03-20T09:00:00.250000+01:00');
  assert.equal(parisDate(Date.parse('2026-03-20T23:30:00Z')), '2026-03-21');
});

test('inbound payloads are validated strictly, every error listed; outgoing ones completed with defaults', { skip: !process.env.GUICHET_SCHEMAS && 'GUICHET_SCHEMAS is not set' }, () => {
  const contract = new Contract(process.env.GUICHET_SCHEMAS);
  const body = (payload) => Buffer.from(JSON.stringify({
    message_id: '01900000-0000-7000-8000-000000000001', type: 'consulat.agent.decision_visa', version: 1,
    dossier_id: 'D-1', causation_id: null, sender: { agency: 'consulat', office: null }, recipient: 'consulat',
    sent_at: '2026-03-02T09:30:00+01:00', deadline: null, facts: null, payload, canonical: null, key_id: null, signature: null,
  }));
  assert.throws(() => contract.decode(body({ granted: 'yes', validity_days: '365' }), {}), (err) => {
    assert.equal(err.reason, 'invalid_payload');
    assert.equal(err.details.length, 2);
    return true;
  });
  assert.equal(contract.decode(body({ granted: true }), {}).payload.granted, true);
  assert.throws(() => contract.decode(body({ granted: false, reason: 'x'.repeat(10001) }), {}), { reason: 'out_of_bounds' });
  assert.throws(() => contract.decode(body({ granted: true }), { headers: { dossier_id: 'D-2' } }), { reason: 'header_mismatch' });
  assert.throws(() => contract.decode(body({ granted: true }), { headers: { type: 'consulat.nothing' } }), { reason: 'unknown_type' });
  assert.deepEqual(contract.payload('consulat.decision_visa', { granted: false, reason: 'visa refusé' }), {
    granted: false, reason: 'visa refusé', visa: null, valid_from: null, valid_until: null, family: { spouse: false, minor_children: 0 },
  });
});
