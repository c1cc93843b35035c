import { describe, expect, it } from 'vitest';
import { RefreshQueue } from '../../sessions/refreshQueue.ts';
import { RefreshSlots } from '../../sessions/refreshSlots.ts';

const turns = async (n: number) => {
  for (let k = 0; k < n; k++) await new Promise<void>((resolve) => setImmediate(resolve));
};
const signal = () => new AbortController().signal;

describe('refresh slots', () => {
  it('grants a refresh of an idle node', async () => {
    const slots = new RefreshSlots(new RefreshQueue());
    const release = await slots.slot('a', signal());
    expect(typeof release).toBe('function');
    release?.();
  });

  it("holds a session's refresh until its command is answered", async () => {
    const slots = new RefreshSlots(new RefreshQueue(), { idleWaitMs: 10_000 });
    const done = slots.hold('a');
    let granted = false;
    void slots.slot('a', signal()).then((release) => {
      granted = true;
      release?.();
    });
    await turns(5);
    expect(granted).toBe(false);
    done();
    await turns(5);
    expect(granted).toBe(true);
  });

  it("waits while another session's command is under way, not for one of its own", async () => {
    const slots = new RefreshSlots(new RefreshQueue(), { idleWaitMs: 10_000 });
    const doneB = slots.hold('b');
    let granted = false;
    void slots.slot('a', signal()).then((release) => {
      granted = true;
      release?.();
    });
    await turns(5);
    expect(granted).toBe(false);
    // A command of `a` itself (a `more` waiting for this very refresh) does not hold it back.
    const doneA = slots.hold('a');
    doneB();
    await turns(5);
    expect(granted).toBe(true);
    doneA();
    expect(slots.commands).toBe(0);
  });

  it('grants a refresh that waited idleWaitMs however busy the node is', async () => {
    const slots = new RefreshSlots(new RefreshQueue(), { idleWaitMs: 5 });
    slots.hold('b');
    const release = await slots.slot('a', signal());
    expect(typeof release).toBe('function');
    release?.();
  });
});
