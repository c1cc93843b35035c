import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../adapters/client/backoff.ts';
import { CreditLedger } from '../../../adapters/client/creditLedger.ts';
import { RequestQueue } from '../../../adapters/client/requestQueue.ts';

const limits = { maxMore: 50, maxCredit: 100 };

describe('CreditLedger', () => {
  it('grants in steps of maxMore, never above maxCredit, and the rest as credit is used', () => {
    const ledger = new CreditLedger();
    let n = 0;
    const id = () => `m${++n}`;
    ledger.wanted = 120;
    expect(ledger.plan(limits, id)).toEqual([
      { id: 'm1', n: 50 },
      { id: 'm2', n: 50 },
    ]);
    expect(ledger.plan(limits, id)).toEqual([]);
    expect(ledger.used('m1')).toBe(true);
    expect(ledger.plan(limits, id)).toEqual([{ id: 'm3', n: 1 }]);
    expect(ledger.granted()).toBe(100);
    expect(ledger.wanted).toBe(119);
  });

  it('after a resume, counts what the session delivered meanwhile, and starts the credit at 0', () => {
    const ledger = new CreditLedger();
    ledger.wanted = 10;
    ledger.plan(limits, () => 'm1');
    ledger.reconnected();
    ledger.deliveredWhileAway(4);
    expect(ledger.granted()).toBe(0);
    expect(ledger.plan(limits, () => 'm2')).toEqual([{ id: 'm2', n: 6 }]);
    ledger.dropped(false);
    expect([ledger.wanted, ledger.granted()]).toEqual([0, 0]);
  });
});

describe('RequestQueue', () => {
  it('keeps order, caps what is in flight, and sends the unanswered again after a reconnect', async () => {
    const queue = new RequestQueue();
    const a = queue.add('a', { type: 'feedback', seq: 1, kind: 'liked' });
    queue.add('b', { type: 'steer', steer: { kind: 'clear' } }).catch(() => undefined);
    queue.add('c', { type: 'pause' }).catch(() => undefined);
    expect(queue.due(2).map((r) => [r.id, r.resend])).toEqual([
      ['a', false],
      ['b', false],
    ]);
    expect(queue.due(2)).toEqual([]);
    expect(queue.answered('a')).toBe(true);
    await a;
    queue.reconnected();
    expect(queue.due(5).map((r) => [r.id, r.resend])).toEqual([
      ['b', true],
      ['c', false],
    ]);
    expect(queue.answered('zz')).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, and jitter only shortens it', () => {
    expect([0, 1, 2, 3, 10].map((k) => backoffDelay(k, DEFAULT_BACKOFF, () => 0))).toEqual([
      500, 1000, 2000, 4000, 30_000,
    ]);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(2000);
  });
});
