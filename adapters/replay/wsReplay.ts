import type { Engine } from '../../engine/engine.ts';
import { exactReport, type ReplayReport } from '../../sessions/replay.ts';
import { createReplayService } from '../../sessions/replayService.ts';
import { type LogInput, readLog, type SessionLog } from '../../sessions/sessionLog.ts';
import type { DeliveredItem } from '../../sessions/sessionService.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LIMITS } from '../protocol.ts';
import { Admission, DEFAULT_SERVER_LIMITS } from '../ws/admission.ts';
import type { ConnectionContext } from '../ws/connectionContext.ts';
import type { WireRefusal } from '../ws/refusals.ts';
import { frameHash, type WireOpened } from '../ws/wireRecorder.ts';
import { WsConnection } from '../ws/wsConnection.ts';
import { checkFrames, type FrameCheck } from './frameInvariants.ts';
import { ReplaySocket } from './replaySocket.ts';

/** The first frame that came out other than recorded: both sides, and where the log holds the recorded one. */
export interface FrameDivergence {
  /** The frame's number on its connection (0-based). */
  frame: number;
  connection: string;
  /** The log entry that carried the recorded frame. */
  logIndex: number;
  expected: { type: string; hash: string } | null;
  got: { type: string; hash: string; text: string } | null;
  /** What the client sent that the frame answered, when the adapter records it (a voice request). */
  input?: string;
}

export interface WireReplay {
  /** The adapter replayed: frames of `WsConnection`, or answers of the Alexa handler. */
  adapter: 'ws' | 'voice';
  /** False when the log holds no wire records (written before they were, or by another adapter). */
  recorded: boolean;
  connections: number;
  framesRecorded: number;
  framesProduced: number;
  framesMatched: number;
  firstFrameDivergence: FrameDivergence | null;
  /** The adapter did not make the call the log had next (so the walk stopped there). */
  callMismatch: { logIndex: number; expected: string; got: string } | null;
  /** Deliveries compared with the log's ids and propensities. */
  deliveries: { compared: number; diverged: number; first: DeliveryDivergence | null };
  /** Items the replay delivered, in order (for the session invariants). */
  delivered: DeliveredItem[];
  frames: FrameCheck;
  /** Log entries walked and wire records replayed. */
  events: number;
  /** The session layer's exact-mode report of the same walk (deliveries, feedback and steers). */
  session: ReplayReport;
}

export interface DeliveryDivergence {
  logIndex: number;
  expected: string[];
  got: string[];
  expectedP?: number[];
  gotP: number[];
}

/** One wire record with the log entry that carried it. */
export interface WireRec {
  logIndex: number;
  c: string;
  kind: string;
  payload: unknown;
}

/**
 * Exact replay of a WebSocket session: the real `WsConnection` (the protocol adapter, its frame encoding, its
 * credit and pump) on an in-memory socket, fed the frames the client sent, in front of the session machine
 * driven by the log (`createReplayService`). Every frame it sends is hashed as the live server hashed it and
 * compared with the recorded hash, in order, per connection.
 *
 * @example
 * const wire = await replayWire(await store.readEvents(id), engine, { sessionId: id });
 * if (wire.firstFrameDivergence) console.log(wire.firstFrameDivergence);
 */
export async function replayWire(
  events: LogInput,
  engine: Engine,
  options: { sessionId?: string } = {},
): Promise<WireReplay> {
  const log = readLog(events);
  const records = wireRecords(log);
  const opened = new Map<string, WireOpened>();
  for (const r of records) if (r.kind === 'open') opened.set(r.c, r.payload as WireOpened);
  const first = opened.values().next().value as WireOpened | undefined;
  const sessionId = first?.sessionId ?? options.sessionId ?? 'replay';
  const replay = createReplayService(log, engine, { sessionId, graceMs: first?.graceMs ?? 120_000 });

  const expected = new Map<string, WireRec[]>();
  for (const r of records) if (r.kind === 'out') push(expected, r.c, r);
  const inputs = records.filter(
    (r) => r.kind === 'in' || r.kind === 'bin' || r.kind === 'close' || r.kind === 'refuse',
  );
  const produced = new Map<string, string[]>();
  let divergence: FrameDivergence | null = null;
  let matched = 0;
  let producedCount = 0;

  const admission = new Admission({
    ...DEFAULT_SERVER_LIMITS,
    // The replay feeds frames as fast as it can: the live rate was checked live.
    messagesPerSecond: Number.MAX_SAFE_INTEGER,
    messageBurst: Number.MAX_SAFE_INTEGER,
    sessionStartsPerMinute: Number.MAX_SAFE_INTEGER,
    overloadLagMs: 0,
    overloadRefreshWaitMs: 0,
  });
  const owners: ConnectionContext['owners'] = new Map();
  const sockets = new Map<string, ReplaySocket>();
  const connections = new Map<string, WsConnection>();
  const connect = (c: string): ReplaySocket => {
    const config = opened.get(c) ?? first;
    const out: string[] = [];
    produced.set(c, out);
    const socket = new ReplaySocket((frame) => {
      // A refusal recorded before this frame goes first (it may send its own error frame from in here).
      turnAway();
      const k = out.length;
      out.push(frame);
      producedCount++;
      const want = expected.get(c)?.[k];
      if (!want) return;
      const [type, hash] = frameHash(frame);
      const [wantType, wantHash] = want.payload as [string, string];
      if (hash === wantHash) matched++;
      else
        divergence ??= {
          frame: k,
          connection: c,
          logIndex: want.logIndex,
          expected: { type: wantType, hash: wantHash },
          got: { type, hash, text: frame },
        };
    });
    const ctx: ConnectionContext = {
      service: replay.service,
      limits: config?.limits ?? DEFAULT_LIMITS,
      heartbeatMs: config?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      highWaterBytes: Number.MAX_SAFE_INTEGER,
      chunk: config?.chunk ?? 10,
      reasons: config?.reasons ?? false,
      owners,
      onClosed: () => {},
      admission,
      observer: {},
    };
    const connection = new WsConnection(socket.asWebSocket(), ctx, {
      address: 'replay',
      principal: 'replay',
    });
    sockets.set(c, socket);
    connections.set(c, connection);
    return socket;
  };

  let next = 0;
  // A request the live connection turned away (a drain, too many waiting) is its `in` with a `refuse` right
  // after. It never reaches the session, so it happened whenever its error frame went out: it is applied
  // once every input before it has been fed and its connection has sent the frames recorded before it.
  const outsBefore = new Map<WireRec, number>();
  const outs = new Map<string, number>();
  for (const r of records) {
    if (r.kind === 'out') outs.set(r.c, (outs.get(r.c) ?? 0) + 1);
    else if (r.kind === 'refuse') outsBefore.set(r, outs.get(r.c) ?? 0);
  }
  const turnedAway = (at: number): boolean => {
    const r = inputs[at];
    const after = inputs[at + 1];
    return (
      r?.kind === 'in' &&
      after?.kind === 'refuse' &&
      after.c === r.c &&
      (after.payload as WireRefusal).close === undefined
    );
  };
  /** Applies the refusal of the turned-away request at `next`, and moves past both records. */
  const applyTurnedAway = () => {
    const refusal = inputs[next + 1];
    next += 2;
    connections.get(refusal.c)?.applyRefusal(refusal.payload as WireRefusal);
  };
  /** Applies every turned-away request due now: its connection has sent the frames recorded before it. */
  const turnAway = () => {
    while (
      turnedAway(next) &&
      (produced.get(inputs[next].c)?.length ?? 0) === outsBefore.get(inputs[next + 1])
    )
      applyTurnedAway();
  };
  const mismatch = await replay.walk({
    feed() {
      const r = inputs[next];
      if (!r) return false;
      const socket = sockets.get(r.c) ?? connect(r.c);
      if (turnedAway(next)) {
        applyTurnedAway();
        return true;
      }
      next++;
      if (r.kind === 'in') socket.receive(r.payload as string);
      else if (r.kind === 'bin') socket.receive('\0'.repeat(r.payload as number), true);
      else if (r.kind === 'refuse') connections.get(r.c)?.applyRefusal(r.payload as WireRefusal);
      else socket.drop(r.payload as number);
      turnAway();
      return true;
    },
    settle: () => new Promise((resolve) => setImmediate(resolve)),
  });
  for (const socket of sockets.values()) socket.terminate();
  await new Promise((resolve) => setImmediate(resolve));
  replay.stop();
  admission.close();

  // A connection that sent fewer frames than recorded diverges at its first missing one.
  for (const [c, want] of expected) {
    const got = produced.get(c) ?? [];
    if (divergence === null && got.length < want.length) {
      const k = got.length;
      const [type, hash] = want[k].payload as [string, string];
      divergence = {
        frame: k,
        connection: c,
        logIndex: want[k].logIndex,
        expected: { type, hash },
        got: null,
      };
    }
  }
  const deliveries = compareDeliveries(replay.deliveries);
  return {
    adapter: 'ws',
    recorded: records.length > 0,
    connections: produced.size,
    framesRecorded: [...expected.values()].reduce((n, l) => n + l.length, 0),
    framesProduced: producedCount,
    framesMatched: matched,
    firstFrameDivergence: divergence,
    callMismatch: mismatch ?? null,
    deliveries,
    delivered: replay.deliveries.flatMap((d) => d.got),
    frames: checkFrames([...produced.values()], [...inputsBy(inputs).values()], {
      profile: log.start.profile,
    }),
    events: log.entries.length + 1 + records.length,
    session: exactReport(log, engine, replay),
  };
}

/** Every wire record in the log, in order, with the entry that carried it. */
export function wireRecords(log: SessionLog): WireRec[] {
  const out: WireRec[] = [];
  const take = (logIndex: number, wire: unknown) => {
    if (!Array.isArray(wire)) return;
    for (const [c, kind, payload] of wire as [string, string, unknown][])
      out.push({ logIndex, c, kind, payload });
  };
  const carriers = [
    ...log.entries.map(({ index, entry }) => ({ index, wire: entry.wire })),
    ...log.trailers,
  ].sort((a, b) => a.index - b.index);
  take(0, log.start.wire);
  for (const { index, wire } of carriers) take(index, wire);
  return out;
}

/** The replay's deliveries against the log's ids and propensities. */
export function compareDeliveries(list: ReturnType<typeof createReplayService>['deliveries']) {
  let diverged = 0;
  let first: DeliveryDivergence | null = null;
  for (const d of list) {
    const got = d.got.map((i) => i.id);
    const gotP = d.got.map((i) => i.propensity);
    const same =
      got.length === d.expected.ids.length &&
      got.every((id, k) => id === d.expected.ids[k]) &&
      (d.expected.p ?? gotP).every((p, k) => Math.abs(p - (gotP[k] ?? Number.NaN)) <= 1e-12);
    if (same) continue;
    diverged++;
    first ??= { logIndex: d.logIndex, expected: d.expected.ids, got, expectedP: d.expected.p, gotP };
  }
  return { compared: list.length, diverged, first };
}

function inputsBy(inputs: WireRec[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const r of inputs) if (r.kind === 'in') push(by, r.c, r.payload as string);
  return by;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
