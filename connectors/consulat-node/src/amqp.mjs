// The consulate on RabbitMQ: the topology it needs declared exactly as the Python agencies declare
// it (same arguments, or the broker refuses with PRECONDITION_FAILED), its queue consumed with
// manual acks and a prefetch, publishing on a confirm channel of its own, persistent messages.

import crypto from 'node:crypto';
import amqp from 'amqplib';
import { headers as envelopeHeaders, routingKey } from './envelope.mjs';

const DELIVERY_LIMIT = 10;
// The namespace of filing ids (guichet/failures.py): one delivery failing in one queue gets the same id.
const FILINGS = '0b9d8f5e-6f0c-4c53-9a57-1d2f3c4b5a69';
// Refusal notices (docs/refusals.md): their ids, and the parties that read a refusal queue.
const NOTICES = '5b1f3e0c-2a4d-4f7e-9c61-8d0a7e3b2f14';
const NOTIFIED = new Set(['ofii', 'smoe', 'consulat', 'prefecture', 'employeur']);
const ACCOUNT_ROLES = { travailleur: 'employeur' }; // the portal's account speaks for the worker

/**
 * A header value in the field types every common client decodes (docs/connectors.md): integers of
 * 32 bits as 'I', other numbers as doubles, no void. amqplib alone would pick 'b' or 's' for a
 * small integer and 'l' for a large one.
 */
export function headerValue (value) {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object' && '!' in value) return value;
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= -0x80000000 && value < 0x80000000 ? { '!': 'int', value } : { '!': 'double', value };
  }
  if (typeof value === 'bigint') return { '!': 'double', value: Number(value) };
  return value;
}

export function headerTable (headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerValue(v)]).filter(([, v]) => v !== undefined));
}

export function uuid5 (namespace, name) {
  const hash = crypto.createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The message id of a delivery, read without trusting its body: the property, the header, the body. */
function deliveryMessageId (msg) {
  if (msg.properties.messageId) return String(msg.properties.messageId);
  const h = msg.properties.headers || {};
  if (h.message_id) return String(h.message_id);
  try { return String(JSON.parse(msg.content.toString('utf8')).message_id || ''); } catch { return ''; }
}
const QUORUM = { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };

export function names (ns) {
  return {
    flow: `${ns}.flux`,
    replay: `${ns}.rejeu`,
    unrouted: `${ns}.vers.non_routes`,
    errors: `${ns}.vers.erreurs`,
    late: `${ns}.vers.retard`,
    refusals: `${ns}.refusals`,
    queue: (owner) => `${ns}.${owner}`,
  };
}

/** `p-` for a process connected as `p-consulat`; null when the account is not the agency's own (guest). */
function accountPrefix (agency, url) {
  const user = decodeURIComponent(new URL(url.split(';')[0].trim()).username || '');
  return user.endsWith(agency) ? user.slice(0, -agency.length) : null;
}

export async function connect (url, { agency, namespace, queueType, prefetch }) {
  const prefix = accountPrefix(agency, url);
  const connection = await amqp.connect(url, { heartbeat: 30, clientProperties: { connection_name: `guichet-${agency}-node` } });
  const n = names(namespace);
  const setup = await connection.createChannel();
  // The alternate exchange first: the flow exchange names it.
  await setup.assertExchange(n.unrouted, 'fanout', { durable: true });
  await setup.assertExchange(n.errors, 'topic', { durable: true });
  await setup.assertExchange(n.late, 'fanout', { durable: true });
  await setup.assertExchange(n.replay, 'topic', { durable: true });
  await setup.assertExchange(n.refusals, 'topic', { durable: true });
  await setup.assertExchange(n.flow, 'topic', { durable: true, arguments: { 'alternate-exchange': n.unrouted } });
  const args = { 'x-dead-letter-exchange': n.late };
  if (queueType === 'quorum') Object.assign(args, QUORUM, { 'x-delivery-limit': DELIVERY_LIMIT });
  const queue = n.queue(agency);
  await setup.assertQueue(queue, { durable: true, arguments: args });
  await setup.bindQueue(queue, n.flow, `${agency}.#`);
  await setup.bindQueue(queue, n.replay, `${agency}.#`);
  const errorArgs = queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
  await setup.assertQueue(n.queue('erreurs'), { durable: true, arguments: errorArgs });
  await setup.bindQueue(n.queue('erreurs'), n.errors, '#');
  await setup.close();

  const publishing = await connection.createConfirmChannel();
  const consuming = await connection.createChannel();
  await consuming.prefetch(prefetch);

  function confirmed (exchange, key, body, options) {
    return new Promise((resolve, reject) => {
      publishing.publish(exchange, key, body, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  return {
    connection,
    consuming,
    queue,
    /** One envelope on the flow exchange under `<recipient>.<type>`; resolves once the broker confirmed it. */
    publish (envelope) {
      return confirmed(n.flow, routingKey(envelope), Buffer.from(JSON.stringify(envelope), 'utf8'), {
        persistent: true,
        contentType: 'application/json',
        messageId: envelope.message_id,
        headers: headerTable(envelopeHeaders(envelope)),
      });
    },
    /**
     * File a refused delivery whole in the error queue, with why in x-guichet-error-* headers,
     * under the key it was delivered with (a key addressed to this agency; else
     * `<agency>.quarantaine`), then the caller acks it. Never a nack without requeue: that would
     * dead-letter it to the late queue, which is for transmissions past their deadline.
     */
    fileError (msg, refusal, busNowIso) {
      const delivered = msg.fields.routingKey;
      const key = delivered && delivered.startsWith(`${agency}.`) ? delivered : `${agency}.quarantaine`;
      const original = msg.properties.headers || {};
      const attempts = Number(original['x-guichet-attempts'] || 0) + 1;
      const messageId = deliveryMessageId(msg);
      const what = messageId || crypto.createHash('sha256').update(msg.content).digest('hex');
      const headers = {
        ...original,
        'x-guichet-error-reason': refusal.reason,
        'x-guichet-error-message': refusal.message,
        'x-guichet-error-queue': queue,
        'x-guichet-error-routing-key': delivered || '',
        'x-guichet-error-first-failure': original['x-guichet-first-failure'] || busNowIso,
        'x-guichet-error-last-failure': busNowIso,
        'x-guichet-error-attempts': attempts,
        'x-guichet-error-exception': refusal.reason,
        'x-guichet-error-traceback': '',
        'x-guichet-error-message_id': messageId,
        'x-guichet-original-content-type': msg.properties.contentType || '',
        'x-guichet-filing-id': uuid5(FILINGS, `${what}|${queue}|${Number(original['x-guichet-replays'] || 0)}`),
      };
      delete headers['x-guichet-attempts'];
      delete headers['x-guichet-first-failure'];
      delete headers['x-guichet-last-error'];
      return confirmed(n.errors, key, msg.content, {
        persistent: true,
        contentType: msg.properties.contentType || 'application/octet-stream',
        messageId: messageId || undefined,
        headers: headerTable(headers),
      });
    },
    /**
     * Tell the sender of a refused message, once its filing was confirmed: the party whose broker
     * account published it (its AMQP user_id); on a bus without per-party accounts, the sender it
     * claimed. Never stands in the way of the filing: a notice not sent is only logged.
     */
    async notify (msg, refusal, busNowIso) {
      const h = msg.properties.headers || {};
      let body = null;
      try { body = JSON.parse(msg.content.toString('utf8')); } catch {}
      let recipient; let identifiedBy;
      if (prefix !== null) {
        const user = msg.properties.userId || '';
        recipient = user.startsWith(prefix) ? user.slice(prefix.length) : '';
        identifiedBy = 'account';
      } else {
        const claimed = typeof h.sender === 'string' ? h.sender : body?.sender?.agency;
        recipient = typeof claimed === 'string' ? (ACCOUNT_ROLES[claimed] || claimed) : '';
        identifiedBy = 'claimed_sender';
      }
      if (!NOTIFIED.has(recipient)) return null;
      const claimed = (name) => {
        const v = h[name] ?? body?.[name];
        return typeof v === 'string' ? v.slice(0, 100) : null;
      };
      const refused = deliveryMessageId(msg).slice(0, 200);
      const notice = {
        notice: 'refusal_notice',
        version: 1,
        notice_id: uuid5(NOTICES, `${refused}|${agency}|${recipient}`),
        message_id: refused,
        type: claimed('type'),
        dossier_id: claimed('dossier_id'),
        reason: String(refusal.reason).slice(0, 100),
        error: String(refusal.message).slice(0, 2000),
        errors: refusal.details || [],
        recipient,
        identified_by: identifiedBy,
        refused_by: agency,
        refused_at: busNowIso,
      };
      await confirmed(n.refusals, recipient, Buffer.from(JSON.stringify(notice), 'utf8'), {
        persistent: true,
        contentType: 'application/json',
        messageId: notice.notice_id,
        headers: headerTable({ type: 'refusal_notice', version: 1, refused_by: agency }),
      });
      return notice;
    },
    async close () {
      try { await consuming.close(); } catch {}
      try { await publishing.close(); } catch {}
      try { await connection.close(); } catch {}
    },
  };
}
