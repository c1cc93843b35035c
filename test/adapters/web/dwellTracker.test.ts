import { describe, expect, it } from 'vitest';
import {
  COMPLETED_MS,
  type DwellFeedback,
  DwellTracker,
  STARTED_MS,
} from '../../../adapters/web/dwellTracker.ts';

function tracker() {
  let now = 0;
  const sent: DwellFeedback[] = [];
  const t = new DwellTracker(
    () => now,
    (f) => sent.push(f),
  );
  return { t, sent, advance: (ms: number) => (now += ms) };
}

describe('DwellTracker', () => {
  it('says nothing of a card scrolled past before it was seen', () => {
    const { t, sent, advance } = tracker();
    t.visible(1, true);
    advance(STARTED_MS - 1);
    t.tick();
    t.visible(1, false);
    expect(sent).toEqual([]);
  });

  it('sends started once seen, then skipped at the time read when it leaves early', () => {
    const { t, sent, advance } = tracker();
    t.visible(1, true);
    advance(STARTED_MS);
    t.tick();
    advance(700);
    t.visible(1, false);
    // Back in view later: the card already has its outcome.
    t.visible(1, true);
    advance(COMPLETED_MS);
    t.visible(1, false);
    expect(sent).toEqual([
      { seq: 1, kind: 'started' },
      { seq: 1, kind: 'skipped', atMs: STARTED_MS + 700 },
    ]);
  });

  it('sums visits, leaves out time with the page hidden, and completes a card read long enough', () => {
    const { t, sent, advance } = tracker();
    t.visible(2, true);
    advance(2000);
    t.visible(2, false); // started (2 s ≥ 1 s) and left: skipped at 2000
    t.visible(3, true);
    advance(1500);
    t.pageHidden(true);
    advance(60_000);
    t.pageHidden(false);
    t.visible(3, true);
    advance(COMPLETED_MS);
    t.visible(3, false);
    expect(sent).toEqual([
      { seq: 2, kind: 'started' },
      { seq: 2, kind: 'skipped', atMs: 2000 },
      { seq: 3, kind: 'started' },
      { seq: 3, kind: 'completed' },
    ]);
  });

  it('a liked card completes however briefly read; a disliked one says nothing more; Skip reports the dwell', () => {
    const { t, sent, advance } = tracker();
    t.visible(4, true);
    advance(1200);
    t.rated(4, 'liked');
    t.visible(4, false);
    t.visible(5, true);
    advance(1200);
    t.rated(5, 'disliked');
    t.visible(5, false);
    t.visible(6, true);
    advance(300);
    t.skip(6);
    t.skip(6);
    expect(sent).toEqual([
      { seq: 4, kind: 'started' },
      { seq: 4, kind: 'completed' },
      { seq: 6, kind: 'skipped', atMs: 300 },
    ]);
  });
});
