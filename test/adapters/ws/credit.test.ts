import { describe, expect, it } from 'vitest';
import { Credit } from '../../../adapters/ws/credit.ts';

describe('Credit', () => {
  it('is cumulative, spent oldest grant first, and dropped whole', () => {
    const credit = new Credit();
    credit.grant('m1', 2);
    credit.grant('m2', 1);
    expect(credit.outstanding).toBe(3);
    expect([credit.spend(), credit.oldest, credit.spend(), credit.spend()]).toEqual(['m1', 'm1', 'm1', 'm2']);
    expect(credit.outstanding).toBe(0);
    expect(credit.oldest).toBeUndefined();
    credit.grant(7, 5);
    credit.drop();
    expect([credit.outstanding, credit.oldest]).toEqual([0, undefined]);
  });
});
