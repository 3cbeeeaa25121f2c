// A connector's check of guichet's signed envelopes, from their JSON alone, as any language would:
// drop `signature`, rebuild the RFC 8785 canonical bytes, verify the Ed25519 signature with the
// sender's public key from the shared key directory.
//
//   node verify.mjs DIRECTORY.json ENVELOPE.json...
//
// Prints one JSON line per envelope: {file, ok, reason, canonical}; exits 1 when any fails.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';

const [directoryFile, ...envelopeFiles] = process.argv.slice(2);
const keys = new Map(JSON.parse(readFileSync(directoryFile, 'utf8')).keys.map((k) => [k.key_id, k]));

// The directory holds raw 32-byte Ed25519 keys in base64; node:crypto takes them as a JWK.
function publicKey (raw) {
  const x = Buffer.from(raw, 'base64').toString('base64url');
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function check (envelope) {
  const { signature, ...signed } = envelope;
  if (!signature) return { ok: false, reason: 'unsigned' };
  if (signed.canonical !== 'rfc8785') return { ok: false, reason: `canonical form ${signed.canonical} unknown here` };
  const key = keys.get(signed.key_id);
  if (!key || key.party !== signed.sender.agency) return { ok: false, reason: 'wrong_sender_key' };
  const canonical = canonicalize(signed);
  const ok = crypto.verify(null, Buffer.from(canonical, 'utf8'), publicKey(key.public_key),
    Buffer.from(signature, 'base64'));
  return { ok, reason: ok ? null : 'bad_signature', canonical };
}

let failed = 0;
for (const file of envelopeFiles) {
  const result = { file, ...check(JSON.parse(readFileSync(file, 'utf8'))) };
  if (!result.ok) failed += 1;
  console.log(JSON.stringify(result));
}
process.exit(failed ? 1 : 0);
