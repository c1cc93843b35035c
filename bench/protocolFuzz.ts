/**
 * A protocol fuzzer over real sockets (fast-check): fuzz connections send frames of every kind (valid
 * requests, valid ones with a field broken, JSON of the wrong shape, garbage text, binary, invalid UTF-8,
 * oversized frames) while canary sessions stream and give feedback. The oracle is the protocol module's own
 * parser and docs/protocol.md: each frame the parser refuses must be answered with exactly its code (and
 * id), in order; each request with an id must be answered; a socket may only be closed with a documented
 * code; canaries see rising seqs, no repeated item, no error and no close.
 * Used by `npm run bench:fuzz` (the full count) and test/integration/protocolFuzz.test.ts (a short run).
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { CLOSE_CODES, isParseError, PROTOCOL_VERSION, parseClientMessage } from '../adapters/protocol.ts';

/** engine/config.ts `freshnessWindow`: a canary may hear an item again only after this many others. */
const FRESHNESS_WINDOW = 2_000;

/** Close codes a fuzz connection may see (application codes come from the protocol's own table). */
const DOCUMENTED_CLOSES = new Set([
  ...Object.keys(CLOSE_CODES).map(Number),
  1001,
  1002,
  1006,
  1007,
  1009,
  1013,
]);

export interface FuzzOptions {
  url: string;
  /** Frames to send on fuzz connections in all. */
  frames: number;
  seed?: number;
  /** Fuzz connections at once. */
  connections?: number;
  canaries?: number;
  /** Frames sent between two in-order markers (each batch is checked when its marker comes back). */
  batch?: number;
  maxPayload?: number;
}

export interface FuzzResult {
  frames: number;
  parseErrorsExpected: number;
  parseErrorsAnsweredWithTheirCode: number;
  requestsAnswered: number;
  unansweredBeforeAClose: number;
  /** Violations: a wrong code, a missing answer without a close, an undocumented close code. */
  problems: string[];
  closes: Record<string, number>;
  connectionsOpened: number;
  canaryItems: number;
  canaryProblems: string[];
  ms: number;
}

type Frame = { text: string; binary?: false } | { bytes: Uint8Array; binary: true } | { invalidUtf8: true };

const id = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.string({ minLength: 1, maxLength: 8 }));
const kinds = fc.constantFrom('started', 'completed', 'skipped', 'liked', 'disliked');
const steer = fc.oneof(
  fc.record({ kind: fc.constant('more-like'), itemId: fc.string({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('less-artist'), artist: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constantFrom('tag', 'mood'), tag: fc.constantFrom('calm', 'jazz', 'rock', 'zzz') }),
  fc.constant({ kind: 'clear' }),
);
const validRequest = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('more'), id, n: fc.integer({ min: 1, max: 5 }) }) },
  {
    weight: 5,
    arbitrary: fc
      .record({ type: fc.constant('feedback'), id, seq: fc.integer({ min: 1, max: 120 }), kind: kinds })
      .map((f) => (f.kind === 'skipped' ? { ...f, atMs: 1500 } : f)),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('steer'), id, steer }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('pause', 'play', 'ping'), id }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('hello'), id, protocol: fc.constantFrom(1, 1, 2, -5, 1e12) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('hello'),
      id,
      protocol: fc.constant(1),
      resume: fc.record({
        sessionId: fc.uuid(),
        resumeToken: fc.string({ minLength: 1, maxLength: 40 }),
        lastSeq: fc.nat(50),
      }),
    }),
  },
);
/** Requests that end the session or the socket: rare, so most batches are checked to their end. */
const closing = fc.oneof(fc.record({ type: fc.constant('end'), id }));
/** A valid request with one field replaced, added or removed. */
const brokenRequest = fc
  .tuple(
    validRequest,
    fc.constantFrom('replace', 'add', 'remove'),
    fc.string({ maxLength: 6 }),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([msg, how, key, value]) => {
    const m: Record<string, unknown> = { ...msg };
    const keys = Object.keys(m);
    const k = keys[key.length % keys.length];
    if (how === 'replace') m[k] = value;
    else if (how === 'add') m[key || 'x'] = value;
    else delete m[k];
    return m;
  });

export const frameArbitrary = (maxPayload: number): fc.Arbitrary<Frame> =>
  fc.oneof(
    { weight: 100, arbitrary: validRequest.map((m) => ({ text: JSON.stringify(m) })) },
    { weight: 100, arbitrary: brokenRequest.map((m) => ({ text: JSON.stringify(m) })) },
    {
      weight: 30,
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: JSON.stringify(v) ?? 'null' })),
    },
    { weight: 30, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
    {
      weight: 20,
      arbitrary: validRequest
        .map((m) => JSON.stringify(m))
        .chain((t) => fc.nat(t.length).map((cut) => ({ text: t.slice(0, cut) }))),
    },
    {
      weight: 10,
      arbitrary: fc.uint8Array({ maxLength: 32 }).map((bytes) => ({ bytes, binary: true as const })),
    },
    { weight: 1, arbitrary: closing.map((m) => ({ text: JSON.stringify(m) })) },
    { weight: 1, arbitrary: fc.constant({ invalidUtf8: true as const }) },
    { weight: 1, arbitrary: fc.constant({ text: `{"type":"ping","id":"${'x'.repeat(maxPayload)}"}` }) },
  );

/**
 * Gives a readable request id a value unique on its connection, keeping its kind (integer or string), so
 * each answer can be matched to its frame; ids of the wrong kind are left as generated.
 */
function uniqueId(text: string, n: number): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('id' in raw)) return text;
  const o = raw as Record<string, unknown>;
  if (Number.isSafeInteger(o.id) && (o.id as number) >= 0) o.id = 10_000_000 + n;
  else if (typeof o.id === 'string' && o.id.length > 0 && o.id.length <= 64) o.id = `u${n}`;
  else return text;
  return JSON.stringify(o);
}

interface Pending {
  /** The code the server must answer with (a parse error), or undefined for a valid request. */
  code?: string;
  id?: unknown;
  type: string;
}

/** One fuzz connection: send a batch, then an in-order marker; check the batch once the marker is answered. */
async function fuzzConnection(
  url: string,
  frames: Frame[],
  result: FuzzResult,
  maxPayload: number,
  helloFirst: boolean,
): Promise<number> {
  result.connectionsOpened++;
  const ws = new WebSocket(url);
  const answers: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  let closed: number | undefined;
  ws.on('message', (d) => {
    answers.push(JSON.parse(d.toString()));
    wake?.();
  });
  ws.on('error', () => {});
  let ours = false;
  ws.on('close', (code) => {
    closed = code;
    if (ours) return;
    result.closes[code] = (result.closes[code] ?? 0) + 1;
    if (!DOCUMENTED_CLOSES.has(code)) result.problems.push(`undocumented close code ${code}`);
    // Handshake closes are documented for a connection that never had a session, not for one that did.
    if (answers.some((a) => a.type === 'welcome') && [4400, 4406, 4408].includes(code))
      result.problems.push(`a connection with a session was closed with the handshake code ${code}`);
    wake?.();
  });
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  if (!opened) return 0;
  // Most connections start a session first, so that frames reach the open state; some fuzz the handshake.
  let sent = 0;
  if (helloFirst)
    ws.send(
      JSON.stringify({
        type: 'hello',
        id: 'fz-h',
        protocol: PROTOCOL_VERSION,
        start: { seed: frames.length },
      }),
    );
  const pending: Pending[] = [];
  for (const frame of frames) {
    if (closed !== undefined) break;
    if ('invalidUtf8' in frame) {
      ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      pending.push({ type: 'invalid-utf8', code: 'close' });
    } else if (frame.binary) {
      ws.send(frame.bytes, { binary: true });
      pending.push({ type: 'binary', code: 'PROTO_MALFORMED_JSON' });
    } else {
      frame.text = uniqueId(frame.text, sent);
      ws.send(frame.text);
      if (Buffer.byteLength(frame.text) > maxPayload) pending.push({ type: 'oversized', code: 'close' });
      else {
        const parsed = parseClientMessage(frame.text);
        if (isParseError(parsed))
          pending.push({ type: parsed.error.type ?? '?', code: parsed.error.code, id: parsed.error.id });
        else pending.push({ type: parsed.type, id: parsed.id });
      }
    }
    sent++;
  }
  if (closed === undefined) ws.send(JSON.stringify({ type: 'more', id: 'fz-mark', n: 0 }));
  const deadline = Date.now() + 10_000;
  while (closed === undefined && !answers.some((a) => a.id === 'fz-mark')) {
    if (Date.now() > deadline) {
      result.problems.push(
        `no answer to the in-order marker within 10 s (connection open, ${answers.length} frames back)`,
      );
      break;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200).unref();
    });
  }
  // Check what was answered: in order, errors of parse failures carry exactly the parser's code.
  const errors = answers.filter((a) => a.type === 'error');
  let e = 0;
  for (const p of pending) {
    if (p.code === 'close') continue;
    if (p.code !== undefined) {
      result.parseErrorsExpected++;
      // The first error from here on with the same id (or without one, when none was readable).
      const k = errors.findIndex((a, i) => i >= e && a.id === p.id);
      if (k < 0) {
        if (closed !== undefined) result.unansweredBeforeAClose++;
        else
          result.problems.push(`no error for a bad ${p.type} frame (expected ${p.code}, id ${String(p.id)})`);
        continue;
      }
      const got = errors[k].code as string;
      // A bad hello on an open connection is a second hello; on a closing one the session may be gone.
      const ok = got === p.code || (p.type === 'hello' && got === 'PROTO_ALREADY_OPEN');
      if (ok) result.parseErrorsAnsweredWithTheirCode++;
      else result.problems.push(`bad ${p.type} frame answered ${got}, expected ${p.code}`);
      e = k + 1;
    } else if (p.type !== 'more') {
      const answered = answers.some(
        (a) => a.id === p.id && ['ack', 'error', 'pong', 'welcome', 'ended'].includes(a.type as string),
      );
      if (answered) result.requestsAnswered++;
      else if (closed !== undefined) result.unansweredBeforeAClose++;
      else result.problems.push(`no answer to a valid ${p.type} (id ${String(p.id)})`);
    }
  }
  ours = true;
  ws.terminate();
  return sent;
}

/** A listener that must not notice the fuzzing: pages of items, feedback on each, all answered. */
async function canary(url: string, seed: number, stop: () => boolean, result: FuzzResult): Promise<void> {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  let closedCode: number | undefined;
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    wake?.();
  });
  ws.on('close', (code) => {
    closedCode = code;
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (
    match: (f: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown> | undefined> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const i = frames.findIndex(match);
      if (i >= 0) return frames.splice(i, 1)[0];
      if (closedCode !== undefined || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
  };
  ws.send(JSON.stringify({ type: 'hello', id: 'c', protocol: PROTOCOL_VERSION, start: { seed } }));
  if (!(await next((f) => f.type === 'welcome'))) {
    result.canaryProblems.push(`canary ${seed}: no welcome`);
    return;
  }
  const seen = new Map<string, number>();
  let count = 0;
  let lastSeq = 0;
  let page = 0;
  while (!stop()) {
    ws.send(JSON.stringify({ type: 'more', id: `p${page}`, n: 5 }));
    for (let i = 0; i < 5; i++) {
      const f = await next((x) => x.type === 'item' || x.type === 'error' || x.type === 'starved');
      if (f === undefined) {
        result.canaryProblems.push(`canary ${seed}: no item (closed ${closedCode})`);
        return;
      }
      if (f.type !== 'item') {
        result.canaryProblems.push(`canary ${seed}: ${JSON.stringify(f)}`);
        return;
      }
      const item = f.item as { id: string };
      if ((f.seq as number) <= lastSeq)
        result.canaryProblems.push(`canary ${seed}: seq ${f.seq} after ${lastSeq}`);
      // The engine promises no repeat within its freshness window (2,000 items by default), not for ever.
      const before = seen.get(item.id);
      if (before !== undefined && count - before < FRESHNESS_WINDOW)
        result.canaryProblems.push(`canary ${seed}: item ${item.id} again ${count - before} items later`);
      seen.set(item.id, count++);
      lastSeq = f.seq as number;
      result.canaryItems++;
      ws.send(JSON.stringify({ type: 'feedback', id: `f${f.seq}`, seq: f.seq, kind: 'completed' }));
      const ack = await next((x) => (x.type === 'ack' || x.type === 'error') && x.id === `f${f.seq}`);
      if (ack?.type !== 'ack') {
        result.canaryProblems.push(`canary ${seed}: feedback answered ${JSON.stringify(ack)}`);
        return;
      }
    }
    page++;
  }
  if (closedCode !== undefined) result.canaryProblems.push(`canary ${seed}: closed ${closedCode}`);
  ws.close();
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const maxPayload = options.maxPayload ?? 4096;
  // Below maxPending (32) with the hello and the marker: a batch is never refused as too many requests.
  const batch = options.batch ?? 24;
  const result: FuzzResult = {
    frames: 0,
    parseErrorsExpected: 0,
    parseErrorsAnsweredWithTheirCode: 0,
    requestsAnswered: 0,
    unansweredBeforeAClose: 0,
    problems: [],
    closes: {},
    connectionsOpened: 0,
    canaryItems: 0,
    canaryProblems: [],
    ms: 0,
  };
  let done = false;
  const canaries = Array.from({ length: options.canaries ?? 3 }, (_, i) =>
    canary(options.url, 1000 + i, () => done, result),
  );
  const arbitrary = frameArbitrary(maxPayload);
  let seed = options.seed ?? 42;
  const workers = Array.from({ length: options.connections ?? 8 }, async () => {
    while (result.frames < options.frames) {
      const frames = fc.sample(arbitrary, { numRuns: batch, seed: seed++ });
      const sent = await fuzzConnection(options.url, frames, result, maxPayload, seed % 5 !== 0);
      result.frames += sent;
    }
  });
  await Promise.all(workers);
  done = true;
  await Promise.all(canaries);
  result.ms = Math.round(performance.now() - started);
  return result;
}
