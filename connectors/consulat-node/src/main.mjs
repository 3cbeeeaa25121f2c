#!/usr/bin/env node
// The consulate's connector: wiring of the modules, and its loop. Each delivery is decoded,
// validated, verified (signed mode), judged and handled, its effects written to the register,
// and only then acknowledged; what it sends goes out from the outbox when due on the bus clock,
// each row removed once the broker confirmed it.

import path from 'node:path';
import { connect } from './amqp.mjs';
import { BusClock, isoParis } from './clock.mjs';
import { configFrom, HELP } from './config.mjs';
import { AGENCY, competentConsulate, handle } from './consulat.mjs';
import { wrap } from './envelope.mjs';
import { isReceipt, mismatch, receiptFor, sha256, wanted } from './receipts.mjs';
import { KeyDirectory, Refusal, Trust } from './signing.mjs';
import { Store } from './store.mjs';
import { Contract } from './validation.mjs';

function log (level, event, fields = {}) {
  process.stderr.write(`${JSON.stringify({ level, event, agency: AGENCY, ...fields, at: new Date().toISOString() })}\n`);
}

async function main () {
  let config;
  try {
    config = configFrom();
  } catch (err) {
    process.stderr.write(`consulat-node: ${err.message}\n${HELP}`);
    return 2;
  }
  if (config.help) { process.stdout.write(HELP); return 0; }
  const clock = new BusClock({ scale: config.timeScale, origin: config.clockOrigin });
  const trust = config.keyDirectory ? new Trust(new KeyDirectory(config.keyDirectory), config.keysDirs) : null;
  // Receipts travel only with signatures on: unsigned, one is a type this connector does not know.
  const contract = new Contract(config.schemas, trust ? AGENCY : null);
  // As `guichet run --require-signatures`: a key of this agency valid now, on the real clock.
  if (config.requireSignatures && (!trust || !trust.signingKey(AGENCY, Date.now()))) {
    process.stderr.write(`consulat-node: --require-signatures: no key directory, or no valid ${AGENCY} key in ${config.keysDirs.join(':') || 'no keys folder'}\n`);
    return 2;
  }
  // kill -HUP: the key directory is read again at the next message, whatever the delay.
  if (trust) process.on('SIGHUP', () => { trust.directory.checked = 0; });
  if (!trust) log('warning', 'signatures are off: any account that can publish on the bus can speak for any agency');
  if (config.simulatedActors) log('warning', "simulated actors are on: the consul's decisions are played from the facts; never for real dossiers");
  const store = new Store(path.join(config.dataDir, 'consulat-node.json'));
  const bus = await connect(config.broker, { agency: AGENCY, namespace: config.namespace, queueType: config.queueType, prefetch: config.prefetch });
  bus.connection.on('error', (err) => log('error', 'connection error', { error: String(err) }));
  bus.connection.on('close', () => { if (!stopping) { log('error', 'connection closed by the broker'); process.exit(1); } });

  let stopping = false;
  let seq = 0;

  // The outbox: one publisher at a time, woken when a row is added or falls due.
  let timer = null;
  let flushing = null;
  const flush = async () => {
    for (const row of store.due(clock.nowMs())) {
      await bus.publish(row.envelope);
      store.sent(row.envelope.message_id);
      log('info', 'sent', { type: row.envelope.type, dossier_id: row.envelope.dossier_id, message_id: row.envelope.message_id });
    }
  };
  const wake = () => {
    if (stopping) return;
    if (flushing) { flushing.then(wake); return; }
    clearTimeout(timer);
    flushing = flush().catch((err) => log('error', 'publishing failed, retried', { error: String(err) })).finally(() => {
      flushing = null;
      const next = store.nextDueMs();
      // Never asleep longer than a second: the bus clock is only a computation on real time.
      if (Number.isFinite(next) && !stopping) timer = setTimeout(wake, Math.min(1000, clock.realMsUntil(next)));
    });
  };

  const refuse = async (msg, refusal, messageId = null) => {
    const at = isoParis(clock.nowMs());
    await bus.fileError(msg, refusal, at);
    try {
      const notice = await bus.notify(msg, refusal, at);
      if (notice) log('info', 'refusal notice sent', { recipient: notice.recipient, reason: notice.reason, message_id: notice.message_id });
    } catch (err) {
      log('warning', 'refusal notice not sent', { error: String(err).slice(0, 300) });
    }
    if (messageId) store.commit({ messageId });
    const h = msg.properties.headers || {};
    log('warning', 'message sent to the error queue', {
      reason: refusal.reason, error: refusal.message, message_id: messageId || msg.properties.messageId || null,
      type: h.type ?? null, dossier_id: h.dossier_id ?? null,
    });
  };

  const outgoingRows = (envelope, result, nowMs) => result.send.map((out) => {
    const entry = contract.entry(out.type);
    const facts = result.dossier.facts ?? null;
    const dueMs = Math.max(out.dueMs ?? nowMs, nowMs);
    let env = wrap(entry, contract.payload(out.type, out.payload), {
      cause: envelope,
      sender: { agency: entry.sender, office: out.senderOffice ?? competentConsulate(result.dossier.dossier) },
      sentAtMs: dueMs,
      deadlineMs: out.deadlineMs ?? null,
      facts,
    });
    if (trust) env = trust.sign(env);
    return row(env, envelope.dossier_id, dueMs, out.task ?? null);
  });

  // An outbox row; for a message to another party (not a receipt: none is acknowledged), the hash
  // of the bytes it will be published as (amqp.mjs publishes JSON.stringify of the envelope),
  // against which its receipt is checked.
  const row = (env, dossierId, dueMs, task) => ({
    envelope: env,
    dossier_id: dossierId,
    due_ms: dueMs,
    task,
    seq: seq++,
    message_hash: env.recipient === AGENCY || isReceipt(env.type) ? null : sha256(Buffer.from(JSON.stringify(env), 'utf8')),
  });

  // A receipt of one of the consulate's messages: kept when it acknowledges the bytes published.
  const receiptArrived = async (msg, envelope, nowMs) => {
    const problem = mismatch(AGENCY, envelope, store.sentMessage(envelope.payload.message_id));
    if (problem !== null) {
      await refuse(msg, new Refusal('receipt_mismatch', problem), envelope.message_id);
      return;
    }
    const record = store.nextRecord('receipt', envelope, sha256(msg.content), isoParis(nowMs));
    store.keepReceipt(envelope, msg.content.toString('utf8'), record);
    log('info', 'receipt kept', { receiver: envelope.sender.agency, acknowledged: envelope.payload.message_id, record_seq: record.seq });
  };

  const process1 = async (msg) => {
    let envelope;
    try {
      envelope = contract.decode(msg.content, msg.properties);
      if (trust) trust.verify(envelope);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      await refuse(msg, err);
      return;
    }
    if (store.processed(envelope.message_id)) {
      log('info', 'duplicate absorbed', { message_id: envelope.message_id, type: envelope.type });
      return;
    }
    const nowMs = clock.nowMs();
    if (isReceipt(envelope.type)) {
      await receiptArrived(msg, envelope, nowMs);
      return;
    }
    const held = store.dossier(envelope.dossier_id);
    let result;
    try {
      result = handle(envelope, held, nowMs, { simulatedActors: config.simulatedActors, scale: config.timeScale || 1 });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      await refuse(msg, err, envelope.message_id);
      return;
    }
    if (result.absorbed) {
      store.commit({ messageId: envelope.message_id });
      log('info', 'resend absorbed', { message_id: envelope.message_id, why: result.absorbed });
      return;
    }
    const outgoing = outgoingRows(envelope, result, nowMs);
    // The message in the store's records, with the hash of its bytes as received; from another
    // administration, acknowledged by a signed receipt in the same commit (docs/proof.md).
    const record = store.nextRecord('in', envelope, sha256(msg.content), isoParis(nowMs));
    if (trust && wanted(AGENCY, envelope)) {
      const office = competentConsulate(result.dossier.dossier);
      const receipt = receiptFor(AGENCY, office, envelope, msg.content, record, nowMs);
      contract.receiptPayload(receipt.payload);
      outgoing.unshift(row(trust.sign(receipt), envelope.dossier_id, nowMs, null));
    }
    store.commit({ messageId: envelope.message_id, dossierId: envelope.dossier_id, dossier: result.dossier, outgoing, withdrawTasks: result.close, record });
    log('info', 'processed', { type: envelope.type, dossier_id: envelope.dossier_id, sent: outgoing.map((r) => r.envelope.type) });
    wake();
  };

  // One delivery at a time, in order: each one's effects are on disk before its ack.
  let chain = Promise.resolve();
  const { consumerTag } = await bus.consuming.consume(bus.queue, (msg) => {
    if (msg === null) { log('error', 'consumer cancelled by the broker'); process.exit(1); }
    chain = chain.then(async () => {
      try {
        await process1(msg);
        bus.consuming.ack(msg);
      } catch (err) {
        // Not a refusal: something of this process failed (disk, broker). Given back to be tried again.
        log('error', 'handling failed, message requeued', { error: String(err && err.stack) });
        bus.consuming.nack(msg, false, true);
      }
    });
  }, { noAck: false });
  log('info', 'consuming', { queue: bus.queue, signed: Boolean(trust), simulated_actors: config.simulatedActors, clock_now: isoParis(clock.nowMs()) });
  wake();

  await new Promise((resolve) => {
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      clearTimeout(timer);
      try { await bus.consuming.cancel(consumerTag); } catch {}
      await chain;
      if (flushing) await flushing;
      await bus.close();
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  log('error', 'stopped', { error: String(err && err.stack) });
  process.exit(1);
});

