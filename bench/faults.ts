/**
 * The faults, one after another, against two real `omakase serve` nodes on a Redis of this script's own
 * (append-only file on, as a Redis that keeps sessions would run): Redis frozen, Redis stopped and started
 * again, SIGTERM of a node, SIGKILL of a node. FAULTS_LISTENERS plain WebSocket clients (written from
 * docs/protocol.md, not the project's client) stream throughout with feedback on every item; a dropped one
 * resumes on the other node, and a request left unanswered is sent again with its id.
 *
 * Printed: a table of what the clients saw in each fault (error codes, close codes, how long until every
 * listener had an item again) and what was lost: acknowledged feedback missing from the session's log (read
 * back from Redis at the end), feedback logged twice, seq gaps or repeats, sessions that could not be resumed.
 * Last line: one JSON object.
 *
 *   npx tsx bench/faults.ts        (FAULTS_LISTENERS=20, FAULTS_SETTLE_MS=8000)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createRedisStore } from '../sessions/redisStore.ts';
import {
  type Node,
  type OwnRedis,
  startNode,
  startRedis,
  writeTestCatalog,
} from '../test/integration/processes.ts';
import { FaultListener, newSeen, type Seen } from './faultListener.ts';

const LISTENERS = Number(process.env.FAULTS_LISTENERS ?? 20);
const SETTLE_MS = Number(process.env.FAULTS_SETTLE_MS ?? 8_000);
const PREFIX = `omakase-faults-${randomBytes(4).toString('hex')}`;

let seen = newSeen();

const dataDir = mkdtempSync(join(tmpdir(), 'omakase-faults-redis-'));
const redisArgs = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir];
let redis: OwnRedis = await startRedis(redisArgs);
const catalog = await writeTestCatalog();
const nodeArgs = () => [
  '--catalog',
  catalog,
  '--model',
  'models/default',
  '--redis',
  redis.url,
  '--redis-prefix',
  PREFIX,
  '--redis-timeout-ms',
  '500',
  '--grace-ms',
  '60000',
];
const env = (name: string) => ({ OMAKASE_NODE_ID: name, REDIS_URL: '', OMAKASE_REDIS_CLUSTER: '' });
const nodes: Record<string, Node | undefined> = {
  a: await startNode(nodeArgs(), env('a')),
  b: await startNode(nodeArgs(), env('b')),
};
const up = () => Object.entries(nodes).filter((e): e is [string, Node] => e[1] !== undefined);

const listeners = Array.from(
  { length: LISTENERS },
  (_, i) =>
    new FaultListener(
      i,
      () => up().map(([name, node]) => [name, node.url] as const),
      () => seen,
    ),
);
await Promise.all(listeners.map((l) => l.connect(false)));
for (const l of listeners) l.pace();

/** Waits until every listener had an item after `since`, or `limitMs` passed; returns how long it took. */
async function everyoneStreaming(since: number, limitMs = 30_000): Promise<number | undefined> {
  while (Date.now() - since < limitMs) {
    if (listeners.every((l) => l.lastItemAt > since)) return Date.now() - since;
    await delay(50);
  }
  return undefined;
}

interface Row {
  fault: string;
  seen: Seen;
  recoveredMs: number | undefined;
  at: number;
}
const rows: Row[] = [];
/**
 * One fault: `inject` causes it and resolves, once the fault is over, with the moment recovery is timed from
 * (Redis answering again; a node's signal, since its listeners move on at once). `after` (a node started
 * again) runs once every listener streams, untimed, so the next fault finds two nodes.
 */
async function fault(name: string, inject: () => Promise<number>, after = async () => {}): Promise<void> {
  await delay(SETTLE_MS);
  seen = newSeen();
  const at = Date.now();
  const from = await inject();
  const took = await everyoneStreaming(from);
  rows.push({ fault: name, seen, recoveredMs: took, at });
  console.log(
    `${name}: ${JSON.stringify(seen)}; every listener streaming again ${took === undefined ? 'not within 30 s' : `${took} ms after`}`,
  );
  await after();
}

await fault('Redis frozen 5 s (SIGSTOP, then SIGCONT)', async () => {
  redis.pause();
  await delay(5_000);
  redis.resume();
  return Date.now();
});
await fault('Redis stopped and started again (SIGTERM, 3 s down, same port and data)', async () => {
  const port = redis.port;
  redis.proc.kill('SIGTERM');
  await new Promise((resolve) => redis.proc.once('exit', resolve));
  await delay(3_000);
  redis = await startRedis(redisArgs, port);
  return Date.now();
});
/** A node's process stopped by `signal`; recovery is timed from the signal; the node is started again after. */
const nodeFault = (name: string, signal: NodeJS.Signals, what: string) =>
  fault(
    what,
    async () => {
      const node = nodes[name]!;
      nodes[name] = undefined;
      const signalled = Date.now();
      node.proc.kill(signal);
      await node.exited;
      return signalled;
    },
    async () => {
      nodes[name] = await startNode(nodeArgs(), env(name));
    },
  );
await nodeFault('a', 'SIGTERM', 'SIGTERM of node a (it drains), then a started again');
await nodeFault('b', 'SIGKILL', 'SIGKILL of node b, then b started again');
await delay(SETTLE_MS);

// What was lost: every acknowledged feedback must be in its session's log exactly once.
for (const l of listeners) l.stopped = true;
for (const l of listeners) l.ws?.terminate();
const store = createRedisStore({ url: redis.url, prefix: PREFIX });
let ackedTotal = 0;
let missing = 0;
let twice = 0;
/** The fault under way (or last begun) at `t`. */
const during = (t: number) => [...rows].reverse().find((r) => r.at <= t)?.fault ?? 'before the first fault';
const samples: string[] = [];
for (const l of listeners) {
  const logged = new Map<number, { atMs: number; node: string; key?: string }[]>();
  for (const { event } of await store.readEvents(l.sessionId)) {
    const e = event as {
      type: string;
      ok?: boolean;
      feedback?: { seq: number };
      atMs: number;
      node: string;
      key?: string;
      repeat?: true;
    };
    // A resend answered as a repeat is logged (`repeat`), not applied: it does not count twice.
    if (e.type === 'user.feedback' && e.ok !== false && !e.repeat && e.feedback)
      logged.set(e.feedback.seq, [
        ...(logged.get(e.feedback.seq) ?? []),
        { atMs: e.atMs, node: e.node, key: e.key },
      ]);
  }
  for (const seq of l.acked.keys()) {
    ackedTotal++;
    const entries = logged.get(seq) ?? [];
    if (entries.length === 0) missing++;
    if (entries.length > 1) {
      twice++;
      samples.push(
        `feedback on seq ${seq} of listener ${l.index} logged ${entries.length}×, during "${during(entries[0].atMs)}": ${JSON.stringify(entries)}`,
      );
    }
  }
  for (const f of l.seqFaultSamples)
    samples.push(
      `listener ${l.index}: seq ${f.got} came where ${f.expected} was due, during "${during(f.at)}"`,
    );
}
for (const line of samples.slice(0, 20)) console.log(line);
await store.close();
const seqFaults = listeners.reduce((n, l) => n + l.seqFaults, 0);
const seqsSkipped = listeners.reduce((n, l) => n + l.seqsSkipped, 0);
const sessionsLost = rows.reduce((n, r) => n + r.seen.sessionsLost, 0);

const codes = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ') || '—';
console.log(
  '\n| fault | errors seen | closes seen | resumed on | every listener streaming again (after Redis answers again / the signal) |',
);
console.log('|---|---|---|---|---:|');
for (const r of rows)
  console.log(
    `| ${r.fault} | ${codes(r.seen.errors)} | ${codes(r.seen.closes)} | ${codes(r.seen.resumedOn)} | ${r.recoveredMs === undefined ? 'not within 30 s' : `${(r.recoveredMs / 1000).toFixed(1)} s`} |`,
  );
console.log(
  `\n${LISTENERS} listeners; acknowledged feedback: ${ackedTotal}, missing from the log ${missing}, applied twice ${twice}; seq gaps or repeats ${seqFaults} (and ${seqsSkipped} seqs skipped after a refused more, as documented); sessions lost ${sessionsLost}`,
);

for (const n of Object.values(nodes)) n?.proc.kill('SIGKILL');
await redis.stop();
console.log(
  JSON.stringify({
    listeners: LISTENERS,
    faults: rows,
    ackedFeedback: ackedTotal,
    missing,
    loggedTwice: twice,
    seqFaults,
    seqsSkipped,
    sessionsLost,
  }),
);
process.exit(0);
