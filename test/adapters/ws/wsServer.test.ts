import { describe, expect, it } from 'vitest';
import { serve, serveEachTest, serverStillWorks, service, started } from './wsServerFixtures.ts';

// Credit, items and the session's commands over a real socket. The server's other tests, by topic:
// wsServer.handshake (hello, resume, takeover), wsServer.connection (bad input, http, heartbeat).

serveEachTest();

describe('credit and items', () => {
  it('sends exactly the items asked for, in seq order, each naming its more', async () => {
    const { client, sessionId } = await started();
    client.send({ type: 'more', id: 'm1', n: 3 });
    client.send({ type: 'more', id: 'm2', n: 2 });
    const items = await client.items(5);
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(items.map((i) => i.re)).toEqual(['m1', 'm1', 'm1', 'm2', 'm2']);
    expect(items[0].item).toMatchObject({
      id: 'item-1',
      title: 'Title 1',
      durationMs: 180_000,
      degraded: false,
    });
    expect(items[0].item.reasons).toBeUndefined();
    await client.settle();
    expect(client.frames.filter((f) => f.type === 'item')).toEqual([]);
    expect(service.asked.get(sessionId)).toBe(5);
  });

  it('fetches large credit in chunks and never asks the session for more than the credit', async () => {
    await serve({ chunk: 4 });
    const { client, sessionId } = await started();
    client.send({ type: 'more', id: 'm', n: 23 });
    const items = await client.items(23);
    expect(items.at(-1)?.seq).toBe(23);
    await client.settle();
    expect(service.asked.get(sessionId)).toBe(23);
  });

  it('stops fetching while a slow reader leaves frames buffered, and catches up when it reads again', async () => {
    await serve({ chunk: 1, highWaterBytes: 64 * 1024 });
    service.titleChars = 512 * 1024;
    const { client, sessionId } = await started();
    const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    client.send({ type: 'more', id: 'm1', n: 50 });
    client.send({ type: 'more', id: 'm2', n: 50 });
    // Wait until the server stops asking for items: 100 items of 512 KiB are far more than socket buffers hold.
    let last = -1;
    let stableTurns = 0;
    const deadline = Date.now() + 5000;
    while ((last <= 0 || stableTurns < 200) && Date.now() < deadline) {
      const now = service.asked.get(sessionId) ?? 0;
      stableTurns = now === last ? stableTurns + 1 : 0;
      last = now;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(100);
    socket.resume();
    const items = await client.items(100);
    expect(items.at(-1)?.seq).toBe(100);
    expect(service.asked.get(sessionId)).toBe(100);
  });

  it('sends reasons when configured to', async () => {
    await serve({ reasons: true });
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 1 });
    expect((await client.next('item')).item.reasons).toMatchObject({ model: 'fake', source: ['ann'] });
  });

  it('says starved when the session runs dry, and keeps the rest of the credit', async () => {
    service.limit = 3;
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 5 });
    await client.items(3);
    expect(await client.next('starved')).toMatchObject({ credit: 2, re: 'm' });
  });

  it('refuses credit above maxCredit with PROTO_CREDIT_EXCEEDED (retryable)', async () => {
    service.limit = 0;
    const { client } = await started();
    client.send({ type: 'more', id: 'a', n: 50 });
    client.send({ type: 'more', id: 'b', n: 50 });
    client.send({ type: 'more', id: 'c', n: 1 });
    expect(await client.next('error')).toMatchObject({
      id: 'c',
      code: 'PROTO_CREDIT_EXCEEDED',
      retryable: true,
    });
  });
});

describe('feedback, steer, pause, play, end', () => {
  it('acks feedback once the session recorded it, then sends what it invalidated', async () => {
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 3 });
    await client.items(3);
    client.send({ type: 'feedback', id: 'f1', seq: 1, kind: 'completed' });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'f1' });
    client.send({ type: 'feedback', id: 'f2', seq: 2, kind: 'disliked' });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'f2' });
    expect(await client.next('invalidated')).toEqual({
      type: 'invalidated',
      seqs: [3],
      reason: 'feedback',
      id: 'f2',
    });
  });

  it('acks steer, pause and play', async () => {
    const { client } = await started();
    client.send({ type: 'steer', id: 's', steer: { kind: 'tag', tag: 'jazz' } });
    client.send({ type: 'pause', id: 'p' });
    client.send({ type: 'play', id: 'q' });
    expect((await client.next('ack')).id).toBe('s');
    expect((await client.next('ack')).id).toBe('p');
    expect((await client.next('ack')).id).toBe('q');
  });

  it('ends the session on end: ack, ended, close 4000, no grace window', async () => {
    const { client, sessionId } = await started();
    client.send({ type: 'end', id: 'e' });
    expect((await client.next('ack')).id).toBe('e');
    expect(await client.next('ended')).toMatchObject({ reason: 'ended', id: 'e' });
    expect((await client.closed).code).toBe(4000);
    expect(service.disconnects.filter((d) => d.sessionId === sessionId)).toEqual([]);
  });

  it('forwards notices: invalidated, and ended with close 4000', async () => {
    const { client, sessionId } = await started();
    service.notify(sessionId, { type: 'invalidated', seqs: [4, 5], reason: 'refill' });
    expect(await client.next('invalidated')).toEqual({ type: 'invalidated', seqs: [4, 5], reason: 'refill' });
    service.notify(sessionId, { type: 'ended', reason: 'idle' });
    expect((await client.next('ended')).reason).toBe('idle');
    expect((await client.closed).code).toBe(4000);
  });

  it('closes with 4000 when a request finds the session gone (expired)', async () => {
    const { client, sessionId } = await started();
    const session = service.sessions.get(sessionId);
    if (session) session.ended = true;
    client.send({ type: 'pause', id: 'p' });
    expect(await client.next('error')).toMatchObject({ id: 'p', code: 'SESSION_EXPIRED', retryable: false });
    expect((await client.closed).code).toBe(4000);
    await serverStillWorks();
  });

  it('tells the session when the socket goes away', async () => {
    const { client, sessionId } = await started();
    client.close();
    await service.disconnectedOnce(sessionId);
    expect(service.disconnects).toEqual([{ sessionId, connectionId: expect.any(String) }]);
  });
});
