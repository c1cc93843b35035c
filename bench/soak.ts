/**
 * A soak of a real `omakase serve` process: SOAK_SESSIONS listeners for SOAK_MINUTES, each paging 5 items at
 * a time with feedback on every one (skips, likes, the odd thumbs-down), a pause of SOAK_THINK_MS between
 * pages, and churn: every minute a tenth of the listeners drop their socket and resume, and a tenth end their
 * session and start a new one. Per minute: the server's heap and RSS (its own /metrics), p50/p99 of
 * more → first item, items, feedback acked, error frames and unexpected closes, how long /metrics took to
 * answer. At the start, once all have ended, and once the ended ones are swept (`--ended-ttl-ms` is 60 s here),
 * the server's heap after a full GC (forced through its inspector, on loopback). Last line: one JSON object.
 * SOAK_TRACE=1 adds, every 10 s, where the listeners are waiting and the server's items and decisions.
 *
 *   npm run bench:soak     (SOAK_SESSIONS=200, SOAK_MINUTES=3, SOAK_THINK_MS=1000; SOAK_REDIS_URL=redis://…
 *                           runs on Redis with a prefix of its own; SOAK_SERVE_ARGS adds serve flags; the figure: SOAK_SESSIONS=1000
 *                           SOAK_MINUTES=10)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../adapters/protocol.ts';
import { collectGarbage, inspectorOf, scrape, scrapeWithin } from './serverProbe.ts';

const SESSIONS = Number(process.env.SOAK_SESSIONS ?? 200);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 3);
const THINK_MS = Number(process.env.SOAK_THINK_MS ?? 1_000);
const REDIS_URL = process.env.SOAK_REDIS_URL;
const CLI = fileURLToPath(new URL('../adapters/cli/omakase.js', import.meta.url));

const args = [
  'serve',
  '--port',
  '0',
  '--log-level',
  'info',
  '--max-sessions-per-principal',
  String(SESSIONS * 2),
  '--session-starts-per-minute',
  String(SESSIONS * 10),
  '--max-connections-per-address',
  String(SESSIONS * 2),
];
// Extra `serve` flags, e.g. SOAK_SERVE_ARGS="--model /nowhere" to soak on the fallback scorer.
if (process.env.SOAK_SERVE_ARGS) args.push(...process.env.SOAK_SERVE_ARGS.split(' ').filter(Boolean));
if (REDIS_URL)
  args.push('--redis', REDIS_URL, '--redis-prefix', `omakase-soak-${randomBytes(4).toString('hex')}`);
else args.push('--memory');
// Ended sessions are kept a minute (not the default five) so the run can show memory after they go.
if (!args.includes('--ended-ttl-ms')) args.push('--ended-ttl-ms', '60000');
// The inspector, on loopback, only so that the soak can force full GCs: heap after a GC is the live size.
const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', CLI, ...args], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
const inspectorUrl = inspectorOf(proc);
let serverExit: number | null | undefined;
proc.once('exit', (code) => {
  serverExit = code;
});
let logLines = 0;
let warnLines = 0;
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  let found = false;
  proc.stdout!.on('data', (c: Buffer) => {
    const text = c.toString();
    for (const line of text.split('\n')) {
      if (!line) continue;
      logLines++;
      if (line.includes('"level":40') || line.includes('"level":50')) warnLines++;
    }
    if (found) return;
    out += text;
    const m = /listening on (ws:\/\/\S+)/.exec(out);
    if (m) {
      found = true;
      resolve(m[1]);
    }
  });
  proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
});
const http = url.replace('ws://', 'http://').replace(/\/ws$/, '');

interface Minute {
  items: number;
  acks: number;
  errors: number;
  unexpectedCloses: number;
  firstMs: number[];
  resumes: number;
  restarts: number;
  /** Items whose seq was not the one after the last seen: a gap (lost) or a repeat. */
  seqFaults: number;
}
const newMinute = (): Minute => ({
  items: 0,
  acks: 0,
  errors: 0,
  unexpectedCloses: 0,
  firstMs: [],
  resumes: 0,
  restarts: 0,
  seqFaults: 0,
});
let minute = newMinute();
const errorCodes: Record<string, number> = {};
const closeCodes: Record<string, number> = {};
const errorSamples: string[] = [];
const endAt = Date.now() + MINUTES * 60_000;

class Listener {
  private ws!: WebSocket;
  private frames: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;
  private closedCode: number | undefined;
  sessionId = '';
  resumeToken = '';
  lastSeq = 0;
  /** Where this listener is waiting now, for SOAK_TRACE's census. */
  phase = 'arriving';
  private n = 0;

  constructor(private readonly seed: number) {}

  async open(resume: boolean): Promise<boolean> {
    this.frames = [];
    this.closedCode = undefined;
    const ws = new WebSocket(url);
    this.ws = ws;
    // Only this socket's frames and close count: a dropped one may still report after its successor opened.
    ws.on('message', (d) => {
      if (this.ws !== ws) return;
      this.frames.push(JSON.parse(d.toString()));
      this.wake?.();
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.closedCode = code;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      this.wake?.();
    });
    ws.on('error', () => {});
    this.phase = resume ? 'connecting (resume)' : 'connecting';
    const opened = await new Promise<boolean>((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
    if (!opened) return false;
    this.ws.send(
      JSON.stringify(
        resume
          ? {
              type: 'hello',
              id: 'h',
              protocol: PROTOCOL_VERSION,
              resume: { sessionId: this.sessionId, resumeToken: this.resumeToken, lastSeq: this.lastSeq },
            }
          : {
              type: 'hello',
              id: 'h',
              protocol: PROTOCOL_VERSION,
              start: { seed: this.seed + this.n++ * 1_000_003 },
            },
      ),
    );
    this.phase = resume ? 'awaiting welcome (resume)' : 'awaiting welcome';
    const welcome = await this.next((f) => f.type === 'welcome' || f.type === 'error');
    if (welcome?.type !== 'welcome') return this.failed(welcome);
    if (!resume) this.lastSeq = 0;
    this.sessionId = welcome.sessionId as string;
    this.resumeToken = welcome.resumeToken as string;
    return true;
  }

  private failed(frame: Record<string, unknown> | undefined): false {
    if (frame?.type === 'error') {
      minute.errors++;
      errorCodes[frame.code as string] = (errorCodes[frame.code as string] ?? 0) + 1;
      if (errorSamples.length < 5) errorSamples.push(`${frame.code}: ${frame.message}`);
    } else minute.unexpectedCloses++;
    return false;
  }

  private async next(
    match: (f: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closedCode !== undefined || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 500).unref();
      });
    }
  }

  /** One page: more 5, feedback on each item. False when something went wrong (counted). */
  async page(): Promise<boolean> {
    const sent = performance.now();
    this.ws.send(JSON.stringify({ type: 'more', id: `m${this.lastSeq}`, n: 5 }));
    for (let i = 0; i < 5; i++) {
      this.phase = i === 0 ? 'awaiting first item' : 'awaiting item';
      const f = await this.next((x) => x.type === 'item' || x.type === 'error' || x.type === 'starved');
      if (f?.type !== 'item') return f?.type === 'starved' ? true : this.failed(f);
      if (i === 0) minute.firstMs.push(performance.now() - sent);
      minute.items++;
      if (f.seq !== this.lastSeq + 1) minute.seqFaults++;
      this.lastSeq = f.seq as number;
      const r = (this.lastSeq * 7919 + this.seed) % 20;
      const kind = r < 8 ? 'completed' : r < 15 ? 'skipped' : r < 19 ? 'liked' : 'disliked';
      this.ws.send(
        JSON.stringify({
          type: 'feedback',
          id: `f${f.seq}`,
          seq: f.seq,
          kind,
          ...(kind === 'skipped' ? { atMs: 3000 + r * 1000 } : {}),
        }),
      );
      this.phase = 'awaiting ack';
      const ack = await this.next((x) => (x.type === 'ack' || x.type === 'error') && x.id === `f${f.seq}`);
      // A withdrawn item (invalidated by a thumbs-down) may be refused: that is an answer, not a fault.
      if (ack?.type === 'ack') minute.acks++;
      else if (ack?.code !== 'SESSION_UNKNOWN_SEQ') return this.failed(ack);
    }
    return true;
  }

  async end(): Promise<void> {
    this.phase = 'ending';
    this.ws.send(JSON.stringify({ type: 'end', id: 'e' }));
    await this.next((f) => f.type === 'ended');
    this.drop();
  }

  drop(): void {
    const ws = this.ws;
    this.ws = undefined as unknown as WebSocket;
    ws.terminate();
  }
}

async function run(listener: Listener, index: number): Promise<void> {
  if (!(await listener.open(false))) return;
  let lastChurn = Math.floor(Date.now() / 60_000);
  while (Date.now() < endAt) {
    if (!(await listener.page())) {
      // Start over after a fault, as a client would.
      listener.drop();
      if (!(await listener.open(false))) await delay(1_000);
      continue;
    }
    const m = Math.floor(Date.now() / 60_000);
    if (m !== lastChurn) {
      lastChurn = m;
      if (index % 10 === 0) {
        listener.drop();
        minute.resumes++;
        if (!(await listener.open(true))) await listener.open(false);
      } else if (index % 10 === 1) {
        await listener.end();
        minute.restarts++;
        await listener.open(false);
      }
    }
    listener.phase = 'thinking';
    await delay(THINK_MS * (0.5 + ((index * 37) % 100) / 100));
  }
  listener.phase = 'ending';
  await listener.end();
}

const q = (xs: number[], p: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN).toFixed(1));
};

console.log(
  `# soak: ${SESSIONS} sessions for ${MINUTES} min on ${REDIS_URL ? 'Redis' : 'the memory store'}, think ${THINK_MS} ms`,
);
const rows: Record<string, unknown>[] = [];
await collectGarbage(inspectorUrl);
const idle = await scrape(http);
console.log(`at start, full GC: heap ${idle.heapMiB} MiB, RSS ${idle.rssMiB} MiB`);
const start = Date.now();
const listeners = Array.from({ length: SESSIONS }, (_, i) => new Listener(i + 1));
// Ramp up over ten seconds, as listeners arrive.
const runs = listeners.map(async (l, i) => {
  await delay((i / SESSIONS) * 10_000);
  await run(l, i);
});
// A minute's counts close on the client's clock, whether or not the server answers /metrics in time: a server
// too busy to answer must not stretch or shrink the minutes (it did, and read as collapsed throughput). Its
// figures come from a scrape begun at the minute's end, and how long that scrape took is a figure of its own.
const reporter = (async () => {
  const scrapes: Promise<void>[] = [];
  for (let m = 1; m <= MINUTES; m++) {
    await delay(Math.max(0, start + m * 60_000 - Date.now()));
    const done = minute;
    minute = newMinute();
    const asked = performance.now();
    scrapes.push(
      scrapeWithin(http, 55_000).then((server) => {
        const row = {
          minute: m,
          items: done.items,
          acks: done.acks,
          errors: done.errors,
          unexpectedCloses: done.unexpectedCloses,
          firstP50Ms: q(done.firstMs, 0.5),
          firstP99Ms: q(done.firstMs, 0.99),
          resumes: done.resumes,
          restarts: done.restarts,
          seqFaults: done.seqFaults,
          metricsMs: Math.round(performance.now() - asked),
          ...server,
        };
        rows.push(row);
        console.log(
          `min ${m}: ${row.items} items, ${row.acks} acks, ${row.errors} errors, ${row.unexpectedCloses} unexpected closes, ${row.seqFaults} seq faults; more→first p50 ${row.firstP50Ms} ms p99 ${row.firstP99Ms} ms; /metrics answered in ${row.metricsMs} ms: heap ${row.heapMiB} MiB (of ${row.heapTotalMiB}), RSS ${row.rssMiB} MiB, external ${row.externalMiB} MiB; store ${row.storeSessions} sessions, log ${row.storeLogMiB} MiB, snapshots ${row.storeSnapshotMiB} MiB; decisions ${row.decisions}; loop lag p99 ${row.lagP99Ms} ms`,
        );
      }),
    );
  }
  await Promise.all(scrapes);
  rows.sort((a, b) => (a.minute as number) - (b.minute as number));
})();
// SOAK_TRACE=1: every 10 s, where the listeners wait and what the server did meanwhile (items, decisions).
let tracing = process.env.SOAK_TRACE === '1';
const tracer = (async () => {
  let before = { items: 0, decisions: 0 };
  while (tracing) {
    await delay(10_000);
    const { items, decisions } = await scrape(http);
    const now = { items, decisions };
    const census: Record<string, number> = {};
    for (const l of listeners) census[l.phase] = (census[l.phase] ?? 0) + 1;
    console.log(
      `trace ${((Date.now() - start) / 1000).toFixed(0)} s: server +${now.items - before.items} items, +${now.decisions - before.decisions} decisions; listeners ${JSON.stringify(census)}`,
    );
    before = now;
  }
})();
await Promise.all([...runs, reporter]);
tracing = false;
await tracer;
const after = await scrape(http);
// What the server holds once every session has ended: with the ended ones still kept, then once they are
// swept (after --ended-ttl-ms and a sweep), each after a full GC. The second should be near the first minute's.
await collectGarbage(inspectorUrl);
const afterGc = await scrape(http);
console.log(
  `all ended, full GC: heap ${afterGc.heapMiB} MiB, RSS ${afterGc.rssMiB} MiB, store ${afterGc.storeSessions} sessions`,
);
const endedTtlMs = Number(args[args.indexOf('--ended-ttl-ms') + 1]);
await delay(endedTtlMs + Math.min(30_000, Math.max(1_000, endedTtlMs)) + 1_000);
await collectGarbage(inspectorUrl);
const swept = await scrape(http);
console.log(
  `ended sessions swept, full GC: heap ${swept.heapMiB} MiB, RSS ${swept.rssMiB} MiB, store ${swept.storeSessions} sessions`,
);
proc.kill('SIGTERM');
await new Promise((resolve) => proc.once('exit', resolve));
console.log(
  JSON.stringify({
    sessions: SESSIONS,
    minutes: MINUTES,
    store: REDIS_URL ? 'redis' : 'memory',
    perMinute: rows,
    errorCodes,
    errorSamples,
    unexpectedCloseCodes: closeCodes,
    atStartFullGc: idle,
    afterAllEnded: after,
    afterAllEndedFullGc: afterGc,
    afterEndedSweptFullGc: swept,
    serverLogLines: logLines,
    serverWarnLines: warnLines,
    serverExitedDuringRun: serverExit !== undefined && serverExit !== 0,
  }),
);
