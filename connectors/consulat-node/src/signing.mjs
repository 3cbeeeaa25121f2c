// Signed messages (docs/keys.md, docs/trust.md): every party signs what it sends with its Ed25519
// key; a receiver checks the signature against the shared key directory before acting on it.
// What is signed: RFC 8785 canonical JSON of the envelope without `signature`, with
// `canonical: "rfc8785"` and `key_id` set (both covered).

import crypto from 'node:crypto';
import { readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { parseInstant } from './clock.mjs';

export const RFC8785 = 'rfc8785';
const RELOAD_MS = 1000; // a replaced directory is seen within a second, as the Python services do
const KEY_ID = /^[A-Za-z0-9._-]{1,200}$/;
const SUBJECT_PARTIES = new Set(['employeur']);

export class Refusal extends Error {
  constructor (reason, message, details = []) {
    super(message);
    this.reason = reason;
    this.details = details;
  }
}

/** The shared directory of public keys, looked at again (one stat) at most once a second. */
export class KeyDirectory {
  constructor (file) {
    this.file = file;
    this.entries = [];
    this.unreadable = null;
    this.seen = null;
    this.checked = 0;
    this.refresh(true);
  }

  refresh (force = false) {
    const now = Date.now();
    if (!force && now - this.checked < RELOAD_MS) return;
    this.checked = now;
    let st;
    try {
      st = statSync(this.file);
    } catch (err) {
      this.entries = []; this.seen = null; this.unreadable = String(err.message);
      return;
    }
    const seen = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    if (seen === this.seen) return;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8'));
      this.entries = raw.keys.map((e) => ({
        party: e.party,
        key_id: e.key_id,
        public_key: e.public_key,
        subject: e.subject || null,
        validFrom: parseInstant(e.valid_from),
        validUntil: e.valid_until ? parseInstant(e.valid_until) : null,
      }));
      this.seen = seen; this.unreadable = null;
    } catch (err) {
      // Never kept at its previous content: that may hold a key just withdrawn.
      this.entries = []; this.seen = seen; this.unreadable = String(err.message);
    }
  }

  get (keyId) { return this.entries.find((e) => e.key_id === keyId) || null; }
}

const withdrawnAt = (e, ms) => e.validUntil !== null && ms >= e.validUntil;
const validAt = (e, ms) => e.validFrom <= ms && !withdrawnAt(e, ms);

function publicKey (raw) {
  const x = Buffer.from(raw, 'base64').toString('base64url');
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** What a signature covers: the envelope as received, without `signature`, in RFC 8785. */
export function canonicalBytes (envelope) {
  const { signature, ...signed } = envelope;
  return Buffer.from(canonicalize(signed), 'utf8');
}

export class Trust {
  /** `keysDirs`: this process's own private keys, `<key_id>.pem` (PKCS#8 PEM), several folders allowed. */
  constructor (directory, keysDirs = []) {
    this.directory = directory;
    this.keysDirs = keysDirs;
    this.private = new Map();
  }

  privateKey (keyId) {
    if (this.private.has(keyId)) return this.private.get(keyId);
    if (!KEY_ID.test(keyId)) return null;
    for (const dir of this.keysDirs) {
      const file = path.join(dir, `${keyId}.pem`);
      if (existsSync(file)) {
        const key = crypto.createPrivateKey(readFileSync(file));
        this.private.set(keyId, key);
        return key;
      }
    }
    return null;
  }

  /**
   * The key to sign with: the newest of the party's keys valid at the envelope's `sent_at` (bus
   * time) and not withdrawn by now (real time), whose private key this process holds.
   */
  signingKey (party, sentAtMs, subject = null) {
    this.directory.refresh();
    const now = Date.now();
    return this.directory.entries
      .filter((e) => e.party === party && e.subject === subject && validAt(e, sentAtMs) && !withdrawnAt(e, now))
      .sort((a, b) => b.validFrom - a.validFrom)
      .find((e) => this.privateKey(e.key_id)) || null;
  }

  sign (envelope) {
    const entry = this.signingKey(envelope.sender.agency, parseInstant(envelope.sent_at));
    if (!entry) throw new Error(`no valid signing key of ${envelope.sender.agency} in ${this.keysDirs.join(':') || 'no keys folder'}`);
    const unsigned = { ...envelope, canonical: RFC8785, key_id: entry.key_id, signature: null };
    const signature = crypto.sign(null, canonicalBytes(unsigned), this.privateKey(entry.key_id));
    return { ...unsigned, signature: signature.toString('base64') };
  }

  /** Refuse (throw a Refusal) what this receiver cannot trust, in the order docs/keys.md gives. */
  verify (envelope) {
    const sender = envelope.sender.agency;
    if (!envelope.signature || !envelope.key_id) throw new Refusal('unsigned', `${envelope.type} from ${sender} is not signed`);
    this.directory.refresh();
    if (this.directory.unreadable) throw new Refusal('key_directory_unreadable', `the key directory cannot be read (${this.directory.unreadable})`);
    const entry = this.directory.get(envelope.key_id);
    if (!entry || entry.party !== sender) throw new Refusal('wrong_sender_key', `key ${envelope.key_id} is not a key of ${sender}`);
    if (SUBJECT_PARTIES.has(sender) && entry.subject === null) throw new Refusal('wrong_sender_key', `key ${entry.key_id} is a shared ${sender} key`);
    if (entry.subject !== null && entry.subject !== envelope.sender.office) throw new Refusal('wrong_sender_key', `key ${entry.key_id} is not a key of the ${sender} this envelope names`);
    // Withdrawal is judged on this receiver's real clock; the validity on the envelope's sent_at.
    if (withdrawnAt(entry, Date.now())) throw new Refusal('expired_key', `key ${entry.key_id} was withdrawn`);
    if (!validAt(entry, parseInstant(envelope.sent_at))) throw new Refusal('expired_key', `key ${entry.key_id} is not valid at ${envelope.sent_at}`);
    if (envelope.canonical !== RFC8785) throw new Refusal('bad_signature', `canonical form ${envelope.canonical} is not ${RFC8785}`);
    let ok = false;
    try {
      ok = crypto.verify(null, canonicalBytes(envelope), publicKey(entry.public_key), Buffer.from(envelope.signature, 'base64'));
    } catch { ok = false; }
    if (!ok) throw new Refusal('bad_signature', `the signature of ${envelope.type} does not match its content`);
  }
}
