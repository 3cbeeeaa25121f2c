// The consulate on RabbitMQ: the topology it needs declared exactly as the Python agencies declare
// it (same arguments, or the broker refuses with PRECONDITION_FAILED), its queue consumed with
// manual acks and a prefetch, publishing on a confirm channel of its own, persistent messages.

import amqp from 'amqplib';
import { headers as envelopeHeaders, routingKey } from './envelope.mjs';

const DELIVERY_LIMIT = 10;
const QUORUM = { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };

export function names (ns) {
  return {
    flow: `${ns}.flux`,
    replay: `${ns}.rejeu`,
    unrouted: `${ns}.vers.non_routes`,
    errors: `${ns}.vers.erreurs`,
    late: `${ns}.vers.retard`,
    queue: (owner) => `${ns}.${owner}`,
  };
}

export async function connect (url, { agency, namespace, queueType, prefetch }) {
  const connection = await amqp.connect(url, { heartbeat: 30, clientProperties: { connection_name: `guichet-${agency}-node` } });
  const n = names(namespace);
  const setup = await connection.createChannel();
  // The alternate exchange first: the flow exchange names it.
  await setup.assertExchange(n.unrouted, 'fanout', { durable: true });
  await setup.assertExchange(n.errors, 'topic', { durable: true });
  await setup.assertExchange(n.late, 'fanout', { durable: true });
  await setup.assertExchange(n.replay, 'topic', { durable: true });
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
        headers: envelopeHeaders(envelope),
      });
    },
    /**
     * File a refused delivery whole in the error queue, with why in x-guichet-error-* headers,
     * under the key it was delivered with (a key addressed to this agency; else
     * `<agency>.quarantine`), then the caller acks it. Never a nack without requeue: that would
     * dead-letter it to the late queue, which is for transmissions past their deadline.
     */
    fileError (msg, refusal, busNowIso) {
      const delivered = msg.fields.routingKey;
      const key = delivered && delivered.startsWith(`${agency}.`) ? delivered : `${agency}.quarantine`;
      const original = msg.properties.headers || {};
      const attempts = Number(original['x-guichet-attempts'] || 0) + 1;
      const headers = {
        ...original,
        'x-guichet-error-reason': refusal.reason,
        'x-guichet-error-message': refusal.message,
        'x-guichet-error-errors': JSON.stringify(refusal.details || []),
        'x-guichet-error-queue': queue,
        'x-guichet-error-routing-key': delivered || '',
        'x-guichet-error-first-failure': original['x-guichet-first-failure'] || busNowIso,
        'x-guichet-error-last-failure': busNowIso,
        'x-guichet-error-attempts': attempts,
        'x-guichet-error-exception': refusal.reason,
        'x-guichet-error-message_id': msg.properties.messageId || '',
        'x-guichet-original-content-type': msg.properties.contentType || '',
      };
      delete headers['x-guichet-attempts'];
      delete headers['x-guichet-first-failure'];
      delete headers['x-guichet-last-error'];
      return confirmed(n.errors, key, msg.content, {
        persistent: true,
        contentType: msg.properties.contentType || 'application/octet-stream',
        messageId: msg.properties.messageId || undefined,
        headers,
      });
    },
    async close () {
      try { await consuming.close(); } catch {}
      try { await publishing.close(); } catch {}
      try { await connection.close(); } catch {}
    },
  };
}
