import { describe, expect, it } from 'vitest';
import { decodeServerFrame } from '../../../adapters/client/serverFrame.ts';

describe('decodeServerFrame', () => {
  it('reads each server message, and keeps fields it does not know', () => {
    expect(decodeServerFrame('{"type":"ack","id":"f1"}')).toEqual({ type: 'ack', id: 'f1' });
    expect(decodeServerFrame('{"type":"invalidated","seqs":[3,4],"reason":"feedback","new":1}')).toEqual({
      type: 'invalidated',
      seqs: [3, 4],
      reason: 'feedback',
      new: 1,
    });
    const item = {
      id: 't1',
      title: 'So What',
      artist: 'Miles Davis',
      durationMs: 1,
      startMs: 0,
      degraded: false,
    };
    expect(decodeServerFrame(JSON.stringify({ type: 'item', seq: 1, item }))).toEqual({
      type: 'item',
      seq: 1,
      item,
    });
  });

  it('names what is wrong with a frame it cannot read', () => {
    expect(decodeServerFrame('{')).toEqual({ problem: 'the frame is not valid JSON' });
    expect(decodeServerFrame('[1]')).toEqual({ problem: 'the frame has no string "type"' });
    expect(decodeServerFrame('{"type":"item","seq":"1","item":{}}')).toEqual({
      problem: 'item.seq is missing or of the wrong type',
    });
    expect(decodeServerFrame('{"type":"error","code":"X","message":"m"}')).toEqual({
      problem: 'error.retryable is missing or of the wrong type',
    });
    expect(decodeServerFrame('{"type":"hint"}')).toEqual({
      problem: 'unknown message type "hint"',
      unknownType: true,
    });
  });
});
