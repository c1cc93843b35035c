import { describe, expect, it } from 'vitest';
import { RefreshQueue } from '../../sessions/refreshQueue.ts';
import { RefreshSlots } from '../../sessions/refreshSlots.ts';

const turns = async (n: number) => {
  for (let k = 0; k < n; k++) await new Promise<void>((resolve) => setImmediate(resolve));
};
const signal = () => new AbortController().signal;

describe('refresh slots', () => {
  it('grants a refresh of a session with no command under way', async () => {
    const slots = new RefreshSlots(new RefreshQueue());
    const run = await slots.slot('a', signal());
    expect(await run!(async () => 'decided')).toBe('decided');
  });

  it("holds a session's refresh until its command is answered, and no other session's", async () => {
    const slots = new RefreshSlots(new RefreshQueue());
    const done = slots.hold('a');
    slots.hold('b');
    let granted = false;
    void slots.slot('a', signal()).then((run) => {
      granted = true;
      void run?.(async () => {});
    });
    await turns(5);
    expect(granted).toBe(false);
    done();
    await turns(5);
    expect(granted).toBe(true);
    // b's command under way does not hold a's refreshes.
    expect(typeof (await slots.slot('a', signal()))).toBe('function');
  });

  it('a refresh whose session stopped while held is not granted', async () => {
    const slots = new RefreshSlots(new RefreshQueue());
    const done = slots.hold('a');
    const controller = new AbortController();
    const pending = slots.slot('a', controller.signal);
    controller.abort();
    done();
    expect(await pending).toBeUndefined();
  });
});
