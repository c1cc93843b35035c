import { afterEach, describe, expect, it } from 'vitest';
import { timelineHtml } from '../../../adapters/report/timelineHtml.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import type { Scorer } from '../../../models/scorer.ts';
import { counterfactual } from '../../../sessions/counterfactual.ts';
import { replaySession } from '../../../sessions/replay.ts';
import { rescoreSession } from '../../../sessions/rescore.ts';
import { sessionTimeline } from '../../../sessions/sessionTimeline.ts';
import { manager, openManagers } from '../../sessions/managerFixtures.ts';
import { catalog, engine, livedSession } from '../../sessions/replayFixtures.ts';
import { hostileEngine } from './hostileEngine.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

const inverse: Scorer = {
  id: 'inverse',
  degraded: false,
  score: async (features, count) => (await createFallbackScorer().score(features, count)).map((s) => -s),
};

describe('sessionTimeline and timelineHtml', () => {
  it('puts every pick, feedback, steer, decision and withdrawal of a lived session on the timeline', async () => {
    const { events, delivered } = await livedSession();
    const timeline = await sessionTimeline(events, engine);
    const picks = timeline.events.filter((x) => x.kind === 'pick');
    expect(picks.map((p) => p.id)).toEqual(delivered.map((d) => d.id));
    expect(picks.map((p) => p.seq)).toEqual(delivered.map((d) => d.seq));
    const liked = picks.find((p) => p.outcomes.includes('liked'))!;
    expect(liked.title).toBe(catalog.items[catalog.indexOf(liked.id)!]!.title);
    expect(picks.filter((p) => p.withdrawnAt !== undefined).length).toBeGreaterThan(0);
    expect(timeline.events.filter((x) => x.kind === 'steer')).toHaveLength(2);
    expect(timeline.events.filter((x) => x.kind === 'decision')).toHaveLength(
      events.filter((x) => x.type === 'engine.pool').length,
    );
    const html = timelineHtml({ sessionId: 's1', timeline, replay: await replaySession(events, engine) });
    expect(html).toContain('replay exact');
    expect(html).toContain(`<b>${liked.title}</b>`);
    expect(html).toContain('withdrew #');
    expect(html).not.toContain('id="first-divergence"');
    // Self-contained: no script, no external fetch.
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('marks the first divergence of a tampered log on its row', async () => {
    const { events } = await livedSession();
    const tampered = structuredClone(events);
    const more = tampered.filter((x) => x.type === 'feed.more' && Array.isArray(x.ids))[1]!;
    const ids = more.ids as string[];
    ids[0] = catalog.items.find((i) => !ids.includes(i.id))!.id;
    const replay = await replaySession(tampered, engine);
    expect(replay.ok).toBe(false);
    const html = timelineHtml({ timeline: await sessionTimeline(tampered, engine), replay });
    const row = html.split('\n').find((line) => line.includes('id="first-divergence"'))!;
    expect(row).toContain(`<td class="ix">${tampered.indexOf(more)}</td>`);
    expect(row).toContain('first divergence');
    expect(row).toContain(ids[0]);
    expect(html).toContain('href="#first-divergence"');
  });

  it('shows rescore ranks and score differences and the counterfactual chances', async () => {
    const { events } = await livedSession();
    const other = createEngine({ catalog, scorer: inverse });
    const html = timelineHtml({
      timeline: await sessionTimeline(events, engine),
      rescore: await rescoreSession(events, engine, other),
      counterfactual: await counterfactual([events], engine, other),
    });
    expect(html).toContain('Rescore: fallback → inverse');
    expect(html).toMatch(/rescored: rank \d+ → \d+ · score -?\d+\.\d\d → -?\d+\.\d\d/);
    expect(html).toMatch(/rescored: τ -?\d\.\d\d/);
    expect(html).toContain('other model picks');
    expect(html).toContain('SNIPS');
    expect(html).toMatch(/target p \d/);
  });

  it('escapes titles and artists: a <script> title stays text', async () => {
    const hostile = hostileEngine();
    const { service, store } = manager({ engine: hostile });
    const { sessionId } = await service.start({ connectionId: 'c1', seed: 3 });
    const items = await service.more(sessionId, 'c1', 4);
    await service.feedback(sessionId, 'c1', { type: 'liked', seq: items[0]!.seq });
    await service.steer(sessionId, 'c1', { kind: 'artist', artist: items[1]!.artist });
    const events = (await store.readEvents(sessionId)).map((row) => row.event);
    const html = timelineHtml({ sessionId: '<b>x</b>', timeline: await sessionTimeline(events, hostile) });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain(`&#60;script&#62;alert(&#34;${items[0]!.id}&#34;)&#60;/script&#62;`);
    expect(html).toContain('&#34;&#62;&#60;img src=x onerror=alert(1)&#62;');
  });
});
