// A connector's view of guichet's deliveries: stock amqplib consumes the given queues and prints,
// for each delivery, one JSON line with its queue, its properties and its headers as amqplib
// decoded them, with the JavaScript type of each header. A header amqplib cannot decode throws in
// its codec and closes the connection: the script then exits non-zero with the error.
//
// node consume.mjs <amqp url> <deliveries expected> <timeout ms> <queue>...
import amqp from "amqplib";

const [url, expected, timeoutMs, ...queues] = process.argv.slice(2);

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function plain(value) {
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const connection = await amqp.connect(url);
let seen = 0;
const failed = (error) => {
  console.error(`amqplib: ${error && error.stack ? error.stack : error}`);
  process.exit(2);
};
connection.on("error", failed);
const timer = setTimeout(() => failed(`timed out after ${timeoutMs} ms with ${seen} of ${expected}`), Number(timeoutMs));
const channel = await connection.createChannel();
channel.on("error", failed);
for (const queue of queues) {
  await channel.consume(queue, async (message) => {
    const headers = message.properties.headers || {};
    const types = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeOf(v)]));
    const { headers: _, ...properties } = message.properties;
    console.log(JSON.stringify({ queue, routingKey: message.fields.routingKey, properties, headers: plain(headers), types }));
    channel.ack(message);
    seen += 1;
    if (seen >= Number(expected)) {
      clearTimeout(timer);
      await channel.close();
      await connection.close();
    }
  });
}
