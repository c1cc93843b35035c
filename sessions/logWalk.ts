import type { Engine } from '../engine/engine.ts';
import type { ScoredPool } from '../engine/pool.ts';
import { steerKey } from '../engine/pool.ts';
import type { SessionState } from '../engine/session.ts';
import { replayActor } from './replayActor.ts';
import type { SessionReply } from './sessionContext.ts';
import {
  type CommandEntry,
  type DecisionEntry,
  type LogInput,
  loggedPoolReader,
  loggedPools,
  readLog,
  type StartEntry,
} from './sessionLog.ts';
import type { SessionEvent } from './sessionMachine.ts';
import type { DeliveredItem } from './sessionService.ts';

/** A logged decision as it lands, with the session state it was scored at. */
export interface WalkDecision {
  logIndex: number;
  entry: DecisionEntry;
  pool: ScoredPool;
  /**
   * The state the decision was scored at: the latest one before it landed with the pool's decision number,
   * position, signal count and steering (picks and feedback may have come while it was scored).
   */
  scoredAt: SessionState;
  /** False when no such state was seen (then `scoredAt` is the state it landed on). */
  exactState: boolean;
  /**
   * Every state since the last decision that matches the pool, oldest first (several when a `started` came
   * between the decision's start and its landing), or the state it landed on when none does.
   */
  candidates: SessionState[];
}

/** A logged delivery, replayed: the items with their reasons, the state before the pick, the pool it used. */
export interface WalkDelivery {
  logIndex: number;
  nowMs: number;
  /** The items the log says were delivered, and their logged propensities. */
  ids: string[];
  p: number[];
  /** The replay's delivered items (with seq and reasons); they equal `ids` when the log replays exactly. */
  items: DeliveredItem[];
  before: SessionState;
  pool: ScoredPool;
}

/** A feedback or steer the session took, with the positions it withdrew. */
export interface WalkChange {
  logIndex: number;
  entry: Extract<CommandEntry, { type: 'user.feedback' | 'user.steer' }>;
  withdrawn: number[];
  /** The delivered items withdrawn (their seqs are void from then on). */
  withdrawnItems: DeliveredItem[];
  /** The machine's answer in the walk (undefined when it gave none at once). */
  reply: SessionReply | undefined;
}

export interface WalkVisitor {
  decision?(d: WalkDecision): void | Promise<void>;
  delivery?(d: WalkDelivery): void | Promise<void>;
  change?(c: WalkChange): void | Promise<void>;
  /**
   * Every other logged command the session took (pause, play, disconnect, resume, end, a held more), with the
   * machine's answer in the walk and what it delivered (a more logged as held that the walk answered at once).
   */
  command?(c: {
    logIndex: number;
    entry: CommandEntry;
    reply: SessionReply | undefined;
    items: DeliveredItem[];
  }): void | Promise<void>;
}

/**
 * Walks a session log through the session machine (the one that served it), on `engine`, as the replay
 * does: the logged start, every command in order with its clock reading, every decision applied as it was
 * scored. The visitor sees each decision with the state it was scored at, and each delivery with the state
 * before it and the pool it was picked from: what re-scoring and off-policy estimates need. It judges
 * nothing (`replaySession` compares); `engine` must be the one the session ran on, or the walk drifts.
 *
 * @example
 * await walkLog(events, engine, { delivery: (d) => console.log(d.ids, d.p) });
 */
export async function walkLog(
  events: LogInput,
  engine: Engine,
  visitor: WalkVisitor,
): Promise<{ start: StartEntry; notes: string[] }> {
  const log = readLog(events);
  const notes = log.ignored.map((type) => `"${type}" events are not replayed.`);
  const actor = replayActor(engine, log.start, 'walk');
  const readPool = loggedPoolReader(engine.catalog, loggedPools(log));
  const replies = new Map<number, SessionReply>();
  actor.on('session.reply', ({ reply }) => replies.set(reply.reqId, reply));
  actor.start();
  const context = () => actor.getSnapshot().context;
  let reqId = 0;
  const send = (event: Record<string, unknown>): SessionReply | undefined => {
    const id = ++reqId;
    actor.send({ ...event, reqId: id } as unknown as SessionEvent);
    const reply = replies.get(id);
    replies.delete(id);
    return reply;
  };
  send({
    type: 'user.start',
    seed: log.start.seed,
    intent: log.start.intent,
    profile: log.start.profile,
    nowMs: log.start.atMs,
  });
  /** States since the last decision landed: where the next one was scored is among them. */
  let states: SessionState[] = [context().engine!];
  const held = new Map<number, number>();
  const deliveredFor = (reply: SessionReply | undefined): DeliveredItem[] => {
    if (!reply?.ok) return [];
    const seqs = new Set(reply.seqs);
    return context().delivered.filter((d) => seqs.has(d.seq));
  };

  try {
    for (const { index, entry } of log.entries) {
      if (entry.type === 'engine.pool') {
        const pool = readPool(entry.pool);
        const before = context().engine!;
        const matching = states.filter(
          (s) =>
            s.decisions === pool.decision &&
            s.nextPos === pool.fromPos &&
            (s.signals ?? 0) === pool.signal &&
            steerKey(s.steers) === pool.steer,
        );
        await visitor.decision?.({
          logIndex: index,
          entry,
          pool,
          scoredAt: matching.at(-1) ?? before,
          exactState: matching.length > 0,
          candidates: matching.length > 0 ? matching : [before],
        });
        const id = entry.answered ? held.get(entry.answered.reqId) : undefined;
        actor.send({ type: 'log.pool', pool, nowMs: entry.nowMs });
        states = [context().engine!];
        if (entry.answered && id !== undefined) {
          held.delete(entry.answered.reqId);
          const reply = replies.get(id);
          replies.delete(id);
          await visitor.delivery?.({
            logIndex: index,
            nowMs: entry.nowMs,
            ids: entry.answered.ids,
            p: entry.answered.p,
            items: deliveredFor(reply),
            before,
            pool,
          });
        }
        continue;
      }
      if (entry.type === 'engine.failed') {
        actor.send({ type: 'log.refillFailed' });
        continue;
      }
      if (entry.ok === false) continue;
      const { atMs: _a, node: _n, ok: _ok, code: _c, reqId: loggedReq, ...command } = entry;
      const {
        withdrawn: _w,
        ids,
        p,
        wire: _wire,
        removed: _removed,
        ...rest
      } = command as typeof command & {
        wire?: unknown;
        removed?: unknown;
        withdrawn?: number[];
        ids?: string[];
        p?: number[];
      };
      const before = context();
      const reply = send(rest);
      const after = context();
      if (after.engine && after.engine !== states.at(-1)) states.push(after.engine);
      if (entry.type === 'feed.more') {
        if (ids && before.pool) {
          await visitor.delivery?.({
            logIndex: index,
            nowMs: entry.nowMs,
            ids,
            p: p ?? ids.map(() => 1),
            items: deliveredFor(reply),
            before: before.engine!,
            pool: before.pool,
          });
        } else {
          if (!ids && !reply) held.set(loggedReq, reqId);
          await visitor.command?.({ logIndex: index, entry, reply, items: deliveredFor(reply) });
        }
        continue;
      }
      if (entry.type === 'user.feedback' || entry.type === 'user.steer') {
        const withdrawn = reply?.ok ? (reply.withdrawn ?? []) : [];
        const gone = new Set(reply?.ok ? reply.invalidated : []);
        await visitor.change?.({
          logIndex: index,
          entry,
          withdrawn,
          withdrawnItems: before.delivered.filter((d) => gone.has(d.seq)),
          reply,
        });
        continue;
      }
      await visitor.command?.({ logIndex: index, entry, reply, items: deliveredFor(reply) });
    }
  } finally {
    actor.stop();
  }
  if (held.size > 0)
    notes.push(`${held.size} held request(s) were never answered in the log (the node stopped first).`);
  return { start: log.start, notes };
}
