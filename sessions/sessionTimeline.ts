import type { Engine } from '../engine/engine.ts';
import type { Steer } from '../engine/session.ts';
import { walkLog } from './logWalk.ts';
import type { LogInput } from './sessionLog.ts';

/** One delivered pick, as the listener got it and as the engine explained it. */
export interface TimelinePick {
  kind: 'pick';
  logIndex: number;
  nowMs: number;
  seq: number;
  pos: number;
  /** Its slot in the delivery (a `more` of n items has slots 0..n−1). */
  slot: number;
  decision: number;
  id: string;
  title: string;
  artist: string;
  album?: string;
  score: number;
  p: number;
  explored: boolean;
  rank: number;
  sources: string[];
  correction?: number;
  /** What the listener said about it later, in order (`liked`, `skipped at 0:04`, …). */
  outcomes: string[];
  /** Set when feedback or steering withdrew it before it played. */
  withdrawnAt?: number;
}

export type TimelineEvent =
  | TimelinePick
  | {
      kind: 'start';
      logIndex: 0;
      nowMs: number;
      seed: number;
      intent: string;
      profile: string;
      model: string;
    }
  | {
      kind: 'decision';
      logIndex: number;
      nowMs: number;
      decision: number;
      fromPos: number;
      candidates: number;
      kept: number;
      model: string;
      degraded: boolean;
    }
  | {
      kind: 'feedback';
      logIndex: number;
      nowMs: number;
      seq: number;
      type: string;
      /** For a skip: how far into the item. */
      atMs?: number;
      item?: { title: string; artist: string };
      withdrew: { seq: number; title: string; artist: string }[];
    }
  | {
      kind: 'steer';
      logIndex: number;
      nowMs: number;
      steer: string;
      withdrew: { seq: number; title: string; artist: string }[];
    }
  | { kind: 'command'; logIndex: number; nowMs: number; type: string };

export interface SessionTimeline {
  startMs: number;
  seed: number;
  model: string;
  events: TimelineEvent[];
  notes: string[];
}

/**
 * A session's timeline, in log order: the start, every decision (pool refresh), every delivered pick with
 * its reasons, score and propensity, the listener's feedback and steering, and what they withdrew. Built by
 * walking the log on the engine the session ran on (the picks' reasons come from the replayed picks).
 *
 * @example
 * const timeline = await sessionTimeline(await store.readEvents(id), engine);
 */
export async function sessionTimeline(events: LogInput, engine: Engine): Promise<SessionTimeline> {
  const out: TimelineEvent[] = [];
  const bySeq = new Map<number, TimelinePick>();
  const briefOf = (seq: number) => {
    const pick = bySeq.get(seq);
    return { seq, title: pick?.title ?? '?', artist: pick?.artist ?? '?' };
  };
  const walked = await walkLog(events, engine, {
    decision(d) {
      out.push({
        kind: 'decision',
        logIndex: d.logIndex,
        nowMs: d.entry.nowMs,
        decision: d.pool.decision,
        fromPos: d.pool.fromPos,
        candidates: d.pool.candidates,
        kept: d.pool.items.length,
        model: d.pool.model,
        degraded: d.pool.degraded,
      });
    },
    delivery(d) {
      d.items.forEach((item, slot) => {
        const pick: TimelinePick = {
          kind: 'pick',
          logIndex: d.logIndex,
          nowMs: d.nowMs,
          seq: item.seq,
          pos: item.pos,
          slot,
          decision: item.reasons.decision ?? d.pool.decision,
          id: item.id,
          title: item.title,
          artist: item.artist,
          album: item.album,
          score: item.score,
          p: item.propensity,
          explored: item.reasons.explored,
          rank: item.reasons.rank,
          sources: item.reasons.source,
          ...(item.reasons.correction !== undefined ? { correction: item.reasons.correction } : {}),
          outcomes: [],
        };
        bySeq.set(item.seq, pick);
        out.push(pick);
      });
    },
    change(c) {
      for (const gone of c.withdrawnItems) {
        const pick = bySeq.get(gone.seq);
        if (pick) pick.withdrawnAt = c.logIndex;
      }
      const withdrew = c.withdrawnItems.map((d) => briefOf(d.seq));
      if (c.entry.type === 'user.steer') {
        out.push({
          kind: 'steer',
          logIndex: c.logIndex,
          nowMs: c.entry.nowMs,
          steer: describeSteer(c.entry.steer),
          withdrew,
        });
        return;
      }
      const fb = c.entry.feedback;
      const atMs = fb.type === 'skipped' ? fb.atMs : undefined;
      const pick = bySeq.get(fb.seq);
      if (pick && fb.type !== 'started')
        pick.outcomes.push(atMs === undefined ? fb.type : `skipped at ${clock(atMs)}`);
      out.push({
        kind: 'feedback',
        logIndex: c.logIndex,
        nowMs: c.entry.nowMs,
        seq: fb.seq,
        type: fb.type,
        ...(atMs === undefined ? {} : { atMs }),
        ...(pick ? { item: { title: pick.title, artist: pick.artist } } : {}),
        withdrew,
      });
    },
    command(c) {
      out.push({ kind: 'command', logIndex: c.logIndex, nowMs: c.entry.nowMs, type: c.entry.type });
    },
  });
  const { start } = walked;
  const intent = start.intent
    ? (start.intent.text ?? start.intent.tag ?? start.intent.artist ?? start.intent.itemId ?? '')
    : '';
  out.unshift({
    kind: 'start',
    logIndex: 0,
    nowMs: start.atMs,
    seed: start.seed,
    intent,
    profile: start.profile ?? 'default',
    model: start.model,
  });
  return { startMs: start.atMs, seed: start.seed, model: start.model, events: out, notes: walked.notes };
}

/** `m:ss` for a duration in ms. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function describeSteer(steer: Steer): string {
  switch (steer.kind) {
    case 'more-like':
      return `more like ${steer.itemId}`;
    case 'less-artist':
      return `less of ${steer.artist}`;
    case 'artist':
      return `artist: ${steer.artist}`;
    case 'tag':
    case 'mood':
      return `${steer.kind}: ${steer.tag}`;
    default:
      return 'clear steering';
  }
}
