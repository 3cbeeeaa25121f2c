// Configuration: each flag of `guichet run consulat`, defaulting to the same GUICHET_* variable.

import { parseArgs } from 'node:util';

export const HELP = `usage: node src/main.mjs [options]

The consulate (consulat) of the guichet unique, in Node.js: consumes <namespace>.consulat, answers
on <namespace>.flux, files what it refuses in <namespace>.erreurs.

  --broker URL            AMQP URL (default: $GUICHET_BROKER_URL)
  --namespace NS          prefix of every exchange and queue (default: $GUICHET_NAMESPACE or guichet)
  --queue-type TYPE       classic or quorum, as every process of the bus (default: $GUICHET_QUEUE_TYPE or classic)
  --schemas DIR           the contract, as \`guichet schemas export --out DIR\` writes it
                          (default: $GUICHET_SCHEMAS or ./schemas-json)
  --data-dir DIR          where the consulate keeps its register, consulat-node.json
                          (default: $GUICHET_DATA_DIR or ./data)
  --time-scale X          bus clock compressed X times (default: $GUICHET_TIME_SCALE or 1, real time)
  --clock-origin ISO      instant at which compressed and real time agree; every process of the
                          bus shares it (default: $GUICHET_CLOCK_ORIGIN, else today 00:00 UTC)
  --key-directory FILE    the shared directory of public keys: with it, what this process sends is
                          signed and what it receives is checked (default: $GUICHET_KEY_DIRECTORY)
  --keys-dir DIR[:DIR]    this process's private keys, <key_id>.pem (default: $GUICHET_KEYS_DIR)
  --require-signatures    refuse to start without a directory and a valid consulat key
                          (default: $GUICHET_REQUIRE_SIGNATURES=1)
  --simulated-actors      the consul's decision is played from the filing's facts: for tests and
                          demonstrations, never for real dossiers (default: off)
  --prefetch N            unacknowledged deliveries at once (default: 100)
  -h, --help              this help
`;

const truthy = (v) => ['1', 'true', 'yes', 'on'].includes(String(v || '').trim().toLowerCase());

export function configFrom (argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      broker: { type: 'string' },
      namespace: { type: 'string' },
      'queue-type': { type: 'string' },
      schemas: { type: 'string' },
      'data-dir': { type: 'string' },
      'time-scale': { type: 'string' },
      'clock-origin': { type: 'string' },
      'key-directory': { type: 'string' },
      'keys-dir': { type: 'string' },
      'require-signatures': { type: 'boolean' },
      'simulated-actors': { type: 'boolean' },
      prefetch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return { help: true };
  const broker = values.broker || env.GUICHET_BROKER_URL;
  if (!broker) throw new Error('--broker: an AMQP URL is needed (or $GUICHET_BROKER_URL)');
  const scale = Number(values['time-scale'] || env.GUICHET_TIME_SCALE || 1);
  if (!(scale > 0)) throw new Error('--time-scale must be positive');
  const prefetch = Number(values.prefetch || 100);
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error('--prefetch: a whole number above 0');
  const queueType = values['queue-type'] || env.GUICHET_QUEUE_TYPE || 'classic';
  if (!['classic', 'quorum'].includes(queueType)) throw new Error(`--queue-type ${queueType}: classic or quorum`);
  const keysDir = values['keys-dir'] || env.GUICHET_KEYS_DIR || '';
  return {
    broker,
    namespace: values.namespace || env.GUICHET_NAMESPACE || 'guichet',
    queueType,
    schemas: values.schemas || env.GUICHET_SCHEMAS || 'schemas-json',
    dataDir: values['data-dir'] || env.GUICHET_DATA_DIR || 'data',
    timeScale: scale === 1 ? null : scale,
    clockOrigin: values['clock-origin'] || env.GUICHET_CLOCK_ORIGIN || null,
    keyDirectory: values['key-directory'] || env.GUICHET_KEY_DIRECTORY || null,
    keysDirs: keysDir.split(':').filter(Boolean),
    requireSignatures: Boolean(values['require-signatures']) || truthy(env.GUICHET_REQUIRE_SIGNATURES),
    simulatedActors: Boolean(values['simulated-actors']),
    prefetch,
  };
}
