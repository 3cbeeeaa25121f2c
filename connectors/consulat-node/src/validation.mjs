// Validation against the JSON Schemas guichet publishes (`guichet schemas export --out DIR`):
// envelope.schema.json, one <type>.v<version>.schema.json per message and index.json (type,
// version, sender, recipient, routing key). An inbound message that fails any check is refused to
// the error path with the reason the bus uses, never handed to a handler.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ADMINISTRATIONS, RECEIPT_SCHEMA, receiptType } from './receipts.mjs';
import { Refusal } from './signing.mjs';

/** The ajv for the draft the export declares: none (as today) reads as ajv's default draft. */
function ajvFor (dialect) {
  if (String(dialect || '').includes('2020-12')) return Ajv2020;
  if (String(dialect || '').includes('2019-09')) return Ajv2019;
  return Ajv;
}

function compiler (useDefaults, dialect) {
  const Draft = ajvFor(dialect);
  // allErrors: every error is listed in the refusal, not only the first. strict off: the schemas
  // carry annotations (examples, titles) ajv's strict mode does not know.
  const ajv = new Draft({ allErrors: true, strict: false, useDefaults });
  addFormats(ajv);
  return ajv;
}

// No text longer than this, no key longer than 100, no nesting deeper than 32 (guichet/envelope.py).
const MAX_TEXT = 10000;
const MAX_DEPTH = 32;

function withinBounds (node, where) {
  const stack = [[node, where, 0]];
  while (stack.length) {
    const [value, at, depth] = stack.pop();
    if (depth > MAX_DEPTH) throw new Refusal('out_of_bounds', `${at}: nested deeper than ${MAX_DEPTH} levels`);
    if (typeof value === 'string' && value.length > MAX_TEXT) throw new Refusal('out_of_bounds', `${at}: text of ${value.length} characters, above the limit of ${MAX_TEXT}`);
    if (Array.isArray(value)) value.forEach((item, i) => stack.push([item, `${at}.${i}`, depth + 1]));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.length > 100) throw new Refusal('out_of_bounds', `${at}: a key of ${key.length} characters, above the limit of 100`);
        stack.push([item, `${at}.${key}`, depth + 1]);
      }
    }
  }
}

function describe (errors, where) {
  // Named as the bus names a field: payload.worker.address_abroad.country.
  return (errors || []).map((e) => `${where}${(e.instancePath || '').replaceAll('/', '.')}: ${e.message}`);
}

export class Contract {
  /**
   * `agency`: the party this connector plays. The schemas export holds no receipts (their type
   * goes to whichever administration sent the message acknowledged): the receipts the other
   * administrations return to `agency` are known here, validated against RECEIPT_SCHEMA, as are
   * the receipts `agency` sends (`receiptPayload`).
   */
  constructor (dir, agency = null) {
    this.dir = dir;
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
    this.types = new Map();
    for (const entry of index) {
      const known = this.types.get(entry.type);
      if (!known || entry.version > known.version) this.types.set(entry.type, entry);
    }
    const read = (file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const envelopeSchema = read('envelope.schema.json');
    const strict = compiler(false, envelopeSchema.$schema);
    const filling = compiler(true, envelopeSchema.$schema);
    this.envelope = strict.compile(envelopeSchema);
    this.inbound = new Map();
    this.outbound = new Map();
    for (const entry of this.types.values()) {
      this.inbound.set(entry.type, strict.compile(read(entry.schema)));
      this.outbound.set(entry.type, filling.compile(read(entry.schema)));
    }
    this.receiptValidator = strict.compile(RECEIPT_SCHEMA);
    if (agency !== null) {
      for (const receiver of ADMINISTRATIONS) {
        const type = receiptType(receiver);
        if (receiver === agency || this.types.has(type)) continue;
        this.types.set(type, { type, version: 1, sender: receiver, recipient: agency, routing_key: `${agency}.${type}`, step: null, schema: null });
        this.inbound.set(type, this.receiptValidator);
      }
    }
  }

  /** A receipt's payload this connector sends, checked against RECEIPT_SCHEMA; throws if invalid. */
  receiptPayload (payload) {
    if (!this.receiptValidator(payload)) throw new Error(`outgoing receipt invalid: ${describe(this.receiptValidator.errors, 'payload').join('; ')}`);
    return payload;
  }

  /** The catalogue entry of a type: {type, version, sender, recipient, routing_key, step}. */
  entry (type) {
    const found = this.types.get(type);
    if (!found) throw new Error(`${type} is not in ${this.dir}/index.json`);
    return found;
  }

  /**
   * Decode a delivery: the envelope, or a Refusal naming the reason. Checks in the order the bus
   * does: content type, JSON, known type and version, envelope, headers, sender, recipient, payload.
   */
  decode (body, properties) {
    const contentType = properties.contentType;
    if (contentType && contentType !== 'application/json') throw new Refusal('wrong_content_type', `content type ${contentType}, expected application/json`);
    const headers = properties.headers || {};
    if ('type' in headers) this.known(String(headers.type), headers.version);
    let raw;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new Refusal('undecodable', `body is not JSON: ${err.message}`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Refusal('undecodable', 'body is not a JSON object');
    const entry = this.known(String(raw.type), raw.version);
    if (!this.envelope(raw)) {
      const errors = describe(this.envelope.errors, 'envelope');
      throw new Refusal('invalid_payload', errors.join('; '), errors);
    }
    for (const [name, value] of [['type', raw.type], ['version', raw.version], ['dossier_id', raw.dossier_id], ['sender', raw.sender.agency]]) {
      if (name in headers && headers[name] !== value) throw new Refusal('header_mismatch', `header ${name} is ${JSON.stringify(headers[name])}, the body says ${JSON.stringify(value)}`);
    }
    withinBounds(raw.payload, 'payload');
    withinBounds(raw.facts, 'facts');
    if (raw.sender.agency !== entry.sender) throw new Refusal('unknown_sender', `${raw.type} cannot come from ${raw.sender.agency}`);
    if (raw.recipient !== entry.recipient) throw new Refusal('invalid_payload', `recipient: ${raw.type} goes to ${entry.recipient}, not ${raw.recipient}`);
    const validate = this.inbound.get(raw.type);
    if (!validate(raw.payload)) {
      const errors = describe(validate.errors, 'payload');
      throw new Refusal('invalid_payload', errors.join('; '), errors);
    }
    return raw;
  }

  known (type, version) {
    const entry = this.types.get(type);
    if (!entry) throw new Refusal('unknown_type', `unknown message type ${JSON.stringify(type)}`);
    if (version !== undefined && version !== null) {
      if (!Number.isInteger(version) || version < 1) throw new Refusal('unsupported_version', `version ${JSON.stringify(version)} of ${type} is not a positive integer`);
      if (version > entry.version) throw new Refusal('unsupported_version', `${type} version ${version} is above the known version ${entry.version}`);
    }
    return entry;
  }

  /** An outgoing payload, completed with the schema's defaults as the Python agencies write them; throws if invalid. */
  payload (type, payload) {
    const copy = structuredClone(payload);
    const validate = this.outbound.get(type);
    if (!validate(copy)) throw new Error(`outgoing ${type} invalid: ${describe(validate.errors, 'payload').join('; ')}`);
    return copy;
  }
}
