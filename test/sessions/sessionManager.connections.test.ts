import { afterEach, describe, expect, it } from 'vitest';
import { code, manager, nextNotice, openManagers, seqs } from './managerFixtures.ts';

// Connections to a session: resume within the grace window, takeover, the grace and idle ends, principals.

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('createSessionManager', () => {
  it('resumes within the grace window: missed items re-sent, token rotated, old connection locked out', async () => {
    const { service, clock } = manager();
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    const sent = await service.more(sid, 'c1', 5);
    await service.pause(sid, 'c1');
    service.disconnected(sid, 'c1');
    clock.increment(60_000);
    const wrong = await code(
      service.resume({ connectionId: 'c2', sessionId: sid, resumeToken: 'nope', lastSeq: 2 }),
    );
    expect(wrong).toBe('SESSION_BAD_RESUME_TOKEN');
    const resumed = await service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 2,
    });
    expect(resumed).toMatchObject({ sessionId: sid, status: 'paused', lastSeq: 5 });
    expect(resumed.missed).toEqual(sent.slice(2));
    expect(resumed.resumeToken).not.toBe(opened.resumeToken);
    expect(await code(service.more(sid, 'c1', 1))).toBe('SESSION_TAKEN_OVER');
    const stale = service.resume({
      connectionId: 'c3',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 0,
    });
    expect(await code(stale)).toBe('SESSION_BAD_RESUME_TOKEN');
    await service.play(sid, 'c2');
    expect(seqs(await service.more(sid, 'c2', 2))).toEqual([6, 7]);
    // The old connection's late disconnect must not start the new owner's grace window.
    service.disconnected(sid, 'c1');
    clock.increment(120_000);
    expect(seqs(await service.more(sid, 'c2', 1))).toEqual([8]);
  });

  it('takes over a live connection and tells its listeners', async () => {
    const { service } = manager();
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 3);
    const notice = nextNotice(service, sid);
    const resumed = await service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 3,
    });
    expect(resumed.missed).toEqual([]);
    expect(await notice).toEqual({ type: 'taken-over' });
    expect(await code(service.feedback(sid, 'c1', { type: 'liked', seq: 1 }))).toBe('SESSION_TAKEN_OVER');
    expect(await service.feedback(sid, 'c2', { type: 'liked', seq: 1 })).toEqual({ invalidated: [] });
  });

  it('ends a disconnected session after the grace window; a later resume gets SESSION_EXPIRED', async () => {
    const { service, clock } = manager({ graceMs: 30_000 });
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    const notice = nextNotice(service, sid);
    service.disconnected(sid, 'c1');
    // Wait until the disconnect is recorded (calls on a session run in order), then let the window pass.
    await code(service.more(sid, 'c1', 1));
    clock.increment(30_000);
    expect(await notice).toEqual({ type: 'ended', reason: 'grace-expired' });
    const late = service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 0,
    });
    expect(await code(late)).toBe('SESSION_EXPIRED');
  });

  it('ends an idle session and says why', async () => {
    const { service, clock } = manager({ idleMs: 60_000 });
    const { sessionId: sid } = await service.start({ connectionId: 'c1' });
    await service.more(sid, 'c1', 2);
    const notice = nextNotice(service, sid);
    clock.increment(60_000);
    expect(await notice).toEqual({ type: 'ended', reason: 'idle' });
    expect(await code(service.more(sid, 'c1', 1))).toBe('SESSION_EXPIRED');
  });

  it('a resume by another principal is SESSION_FORBIDDEN and writes nothing', async () => {
    const { service, store } = manager();
    const opened = await service.start({ connectionId: 'c1', seed: 3, principal: 'alice' });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 4);
    const before = await store.load(sid);
    const events = (await store.readEvents(sid)).length;
    const resume = (principal?: string) =>
      service.resume({
        connectionId: 'c2',
        principal,
        sessionId: sid,
        resumeToken: opened.resumeToken,
        lastSeq: 0,
      });
    expect(await code(resume('mallory'))).toBe('SESSION_FORBIDDEN');
    expect(await code(resume())).toBe('SESSION_FORBIDDEN');
    expect(await store.load(sid)).toEqual(before);
    expect((await store.readEvents(sid)).length).toBe(events);
    // The owner's connection still drives it, and the right principal may resume it with the same token.
    expect(seqs(await service.more(sid, 'c1', 2))).toEqual([5, 6]);
    expect((await resume('alice')).lastSeq).toBe(6);
  });
});
