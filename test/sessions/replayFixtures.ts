import { expect } from 'vitest';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import type { DeliveredItem } from '../../sessions/sessionService.ts';
import type { SessionLogEvent, SessionStore } from '../../sessions/sessionStore.ts';
import { smallCatalog } from '../engine/fixtures.ts';
import { manager } from './managerFixtures.ts';

/** A session lived through the real manager for the replay and export tests (close `openManagers` after each). */

export const catalog = smallCatalog();
export const engine = createEngine({ catalog, scorer: createFallbackScorer() });

/**
 * A session through the real manager, memory store and engine: feedback of every kind, an early skip and a
 * dislike that withdraw queued picks, two steers, pause/play, a disconnect, a resume on a new connection,
 * more items after it, and an end. Returns its log and the ids of items that got feedback.
 */
export async function livedSession(options: { store?: SessionStore } = {}): Promise<{
  sessionId: string;
  events: SessionLogEvent[];
  ids: Record<string, string>;
  /** Every item delivered, in delivery order (re-sends on resume not repeated). */
  delivered: DeliveredItem[];
}> {
  const { service, store, clock } = manager({ engine, ...options });
  const opened = await service.start({ connectionId: 'c1', seed: 77, intent: { tag: 'genre2' } });
  const sid = opened.sessionId;
  const first = await service.more(sid, 'c1', 12);
  clock.increment(200_000);
  await service.feedback(sid, 'c1', { type: 'started', seq: 1 });
  await service.feedback(sid, 'c1', { type: 'completed', seq: 1 });
  await service.feedback(sid, 'c1', { type: 'liked', seq: 2 });
  clock.increment(5_000);
  // An early skip and a dislike withdraw queued picks of their artists.
  await service.feedback(sid, 'c1', { type: 'skipped', seq: 3, atMs: 4_000 });
  const disliked =
    first.find((d) => d.seq > 3 && first.some((o) => o.seq > d.seq && o.artist === d.artist)) ?? first[4]!;
  await service.feedback(sid, 'c1', { type: 'disliked', seq: disliked.seq });
  await service.steer(sid, 'c1', { kind: 'tag', tag: 'genre5' });
  await service.pause(sid, 'c1');
  clock.increment(60_000);
  await service.play(sid, 'c1');
  const second = await service.more(sid, 'c1', 25);
  await service.feedback(sid, 'c1', { type: 'completed', seq: second[0]!.seq });
  await service.steer(sid, 'c1', { kind: 'less-artist', artist: second[1]!.artist });
  service.disconnected(sid, 'c1');
  clock.increment(30_000);
  const resumed = await service.resume({
    connectionId: 'c2',
    sessionId: sid,
    resumeToken: opened.resumeToken,
    // Steering withdrew every delivered item not yet started: the missed ones are those that started.
    lastSeq: 1,
  });
  expect(resumed.missed.length).toBeGreaterThan(0);
  await service.feedback(sid, 'c2', { type: 'skipped', seq: resumed.missed[0]!.seq, atMs: 90_000 });
  const third = await service.more(sid, 'c2', 15);
  await service.feedback(sid, 'c2', { type: 'disliked', seq: third[2]!.seq });
  const fourth = await service.more(sid, 'c2', 5);
  await service.end(sid, 'c2');
  const events = (await store.readEvents(sid)).map((e) => e.event);
  const ids = {
    completed: first[0]!.id,
    liked: first[1]!.id,
    earlySkipped: first[2]!.id,
    disliked: disliked.id,
    completedLater: second[0]!.id,
    dislikedAfterResume: third[2]!.id,
  };
  return { sessionId: sid, events, ids, delivered: [...first, ...second, ...third, ...fourth] };
}
