import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadRuntime } from '../../adapters/runtime.ts';
import { createWsServer, type WsServer } from '../../adapters/ws/wsServer.ts';
import type { Engine } from '../../engine/engine.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { createSessionManager } from '../../sessions/sessionManager.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import { audioEvent, intentRequest, launchRequest } from '../adapters/voice/alexaRequests.ts';
import { harness, refOf, seededRandom, tokenOf } from '../adapters/voice/voiceHarness.ts';

/**
 * Every pick answers the listener, over a real socket: twin sessions (same seed, same intent) on the demo
 * catalog and the shipped model ask for one item at a time and report each; at item 8 one twin says
 * something else. The first item either asks for after the acknowledgement must show it. The client here is
 * written from docs/protocol.md alone (raw `ws`, JSON frames), not with the project's helpers.
 */

interface Frame {
  type: string;
  [key: string]: unknown;
}

interface Item {
  id: string;
  artist: string;
  album?: string;
  reasons?: { correction?: number; decision?: number };
}

/** A protocol client in a few lines: frames in arrival order, awaited by type. */
class Client {
  private readonly frames: Frame[] = [];
  private readonly waiters: { type: string; resolve(f: Frame): void }[] = [];
  private nextId = 0;
  seq = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      const at = this.waiters.findIndex((w) => w.type === frame.type || frame.type === 'error');
      if (at >= 0) this.waiters.splice(at, 1)[0]!.resolve(frame);
      else this.frames.push(frame);
    });
  }

  static async open(url: string, seed: number, intent: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const client = new Client(ws);
    client.send({ type: 'hello', protocol: 1, start: { seed, intent: { text: intent } } });
    await client.next('welcome');
    return client;
  }

  send(frame: Record<string, unknown>): string {
    const id = `r${++this.nextId}`;
    this.ws.send(JSON.stringify({ id, ...frame }));
    return id;
  }

  next(type: string): Promise<Frame> {
    const at = this.frames.findIndex((f) => f.type === type || f.type === 'error');
    const found = at >= 0 ? this.frames.splice(at, 1)[0] : undefined;
    const frame = found
      ? Promise.resolve(found)
      : new Promise<Frame>((resolve) => this.waiters.push({ type, resolve }));
    return frame.then((f) => {
      if (f.type === 'error' && type !== 'error') throw new Error(`server error: ${JSON.stringify(f)}`);
      return f;
    });
  }

  async item(): Promise<Item> {
    this.send({ type: 'more', n: 1 });
    const frame = await this.next('item');
    this.seq = frame.seq as number;
    return frame.item as Item;
  }

  async tell(kind: string, atMs?: number): Promise<void> {
    this.send({ type: 'feedback', seq: this.seq, kind, ...(atMs === undefined ? {} : { atMs }) });
    await this.next('ack');
  }

  async steer(steer: Record<string, unknown>): Promise<void> {
    this.send({ type: 'steer', steer });
    await this.next('ack');
  }

  close(): void {
    this.ws.close();
  }
}

let service: SessionService;
let runtimeEngine: Engine;
/** An artist and an item of another genre than the twins' jazz, for the artist and more-like steers. */
let rockArtist: string;
let rockItem: string;
let server: WsServer;
let url: string;

beforeAll(async () => {
  const runtime = await loadRuntime();
  runtimeEngine = runtime.engine;
  const rock = runtime.catalog.items.filter((i) => i.tags.includes('rock') && !i.tags.includes('jazz'));
  rockArtist = rock[0]!.artist;
  rockItem = rock[1]!.id;
  service = createSessionManager({ engine: runtime.engine, store: createMemoryStore(), onError: () => {} });
  server = await createWsServer({ service, port: 0, reasons: true });
  url = `ws://127.0.0.1:${server.address().port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await service?.close();
});

/** Twins agree on the first 7 items, each completed; returns them with the 8th item delivered to both. */
async function twins(seed: number, intent = 'play some jazz') {
  const a = await Client.open(url, seed, intent);
  const b = await Client.open(url, seed, intent);
  let eighth: Item | undefined;
  for (let k = 1; k <= 8; k++) {
    const [x, y] = [await a.item(), await b.item()];
    expect(x.id, `twins agree before the feedback (item ${k}, seed ${seed})`).toBe(y.id);
    eighth = x;
    if (k < 8) await Promise.all([a.tell('completed'), b.tell('completed')]);
  }
  return { a, b, eighth: eighth! };
}

const SEEDS = [1, 2, 3, 4, 5, 6];

describe('every pick answers the listener (twin sessions over a real socket, demo catalog and model)', () => {
  it.each([
    ['a dislike', 'disliked', undefined],
    ['a skip at 5 s', 'skipped', 5_000],
  ] as const)(
    '%s changes the very next item, for every seed',
    async (_name, kind, atMs) => {
      for (const seed of SEEDS) {
        const { a, b } = await twins(seed);
        const said = await (async () => {
          await Promise.all([a.tell(kind, atMs), b.tell('completed')]);
          return [await a.item(), await b.item()] as const;
        })();
        expect(said[0].id, `seed ${seed}: the first item after the ${kind} differs from the twin's`).not.toBe(
          said[1].id,
        );
        a.close();
        b.close();
      }
    },
    60_000,
  );

  it('after a dislike, no item by that artist follows for the next 10', async () => {
    for (const seed of SEEDS.slice(0, 3)) {
      const { a, b, eighth } = await twins(seed);
      b.close();
      await a.tell('disliked');
      const after: Item[] = [];
      for (let k = 0; k < 10; k++) {
        after.push(await a.item());
        await a.tell('completed');
      }
      expect(after.map((i) => i.artist)).not.toContain(eighth.artist);
      a.close();
    }
  }, 60_000);

  it('a like is felt at the very next item: it differs from the twin or its score carries the correction', async () => {
    let differed = 0;
    for (const seed of SEEDS) {
      const { a, b } = await twins(seed);
      await Promise.all([a.tell('liked'), b.tell('completed')]);
      const [x, y] = [await a.item(), await b.item()];
      if (x.id !== y.id) differed++;
      // A like is a strong signal, so it may bring a decision of its own: the same item chosen again from a
      // pool scored after the like (which then carries no correction: the like is in its features).
      else if ((x.reasons?.decision ?? 0) > (y.reasons?.decision ?? 0)) continue;
      else expect(x.reasons?.correction ?? 0, `seed ${seed}`).toBeGreaterThan(y.reasons?.correction ?? 0);
      a.close();
      b.close();
    }
    expect(differed).toBeGreaterThan(0);
  }, 60_000);

  it.each([
    ['a mood', () => ({ kind: 'mood', tag: 'calm' })],
    ['a tag', () => ({ kind: 'tag', tag: 'rock' })],
    ['an artist', () => ({ kind: 'artist', artist: rockArtist })],
    ['a more-like', () => ({ kind: 'more-like', itemId: rockItem })],
  ] as const)(
    '%s steer changes the very next item, for every seed',
    async (kind, steerFor) => {
      for (const seed of SEEDS) {
        const { a, b } = await twins(seed);
        await Promise.all([a.tell('completed'), b.tell('completed')]);
        await a.steer(steerFor());
        const [x, y] = [await a.item(), await b.item()];
        expect(x.id, `seed ${seed}: the first item after ${kind} steer differs from the twin's`).not.toBe(
          y.id,
        );
        if (kind === 'an artist') {
          const next = [x];
          for (let k = 0; k < 4; k++) {
            await a.tell('completed');
            next.push(await a.item());
          }
          expect(
            next.map((i) => i.artist),
            `seed ${seed}`,
          ).toContain(rockArtist);
        }
        a.close();
        b.close();
      }
    },
    120_000,
  );

  it('a less-artist steer: the very next item comes from a decision made after it, and none by that artist follows', async () => {
    // The artist just heard is spaced out anyway, so the twin's next item may be the best without it too:
    // what the steer must change is the decision the next item comes from, and the items after it.
    for (const seed of SEEDS) {
      const { a, b, eighth } = await twins(seed);
      await Promise.all([a.tell('completed'), b.tell('completed')]);
      await a.steer({ kind: 'less-artist', artist: eighth.artist });
      const [x, y] = [await a.item(), await b.item()];
      expect(x.reasons?.decision, `seed ${seed}`).toBeGreaterThan(y.reasons?.decision ?? 0);
      const next = [x];
      for (let k = 0; k < 9; k++) {
        await a.tell('completed');
        next.push(await a.item());
      }
      expect(
        next.map((i) => i.artist),
        `seed ${seed}`,
      ).not.toContain(eighth.artist);
      a.close();
      b.close();
    }
  }, 120_000);

  it('clearing a steer: the very next item comes from a decision made after it', async () => {
    for (const seed of SEEDS.slice(0, 3)) {
      const { a, b } = await twins(seed);
      await Promise.all([a.tell('completed'), b.tell('completed')]);
      await Promise.all([a.steer({ kind: 'mood', tag: 'calm' }), b.steer({ kind: 'mood', tag: 'calm' })]);
      const [x, y] = [await a.item(), await b.item()];
      expect(x.id).toBe(y.id);
      await Promise.all([a.tell('completed'), b.tell('completed')]);
      await a.steer({ kind: 'clear' });
      const [p, q] = [await a.item(), await b.item()];
      // The same item may still be the best without the steer; it was chosen again from a new decision.
      expect(p.reasons?.decision, `seed ${seed}`).toBeGreaterThan(q.reasons?.decision ?? 0);
      a.close();
      b.close();
    }
  }, 60_000);

  describe('through the voice handler (Alexa AudioPlayer)', () => {
    const player = (token: string, offsetInMilliseconds: number) => ({ token, offsetInMilliseconds });
    /** A voice twin: launched, then eight items played to their end, the eighth now playing. */
    async function voiceTwin() {
      const h = harness(runtimeEngine, undefined, undefined, { random: seededRandom(3) });
      let token = tokenOf(await h.call(launchRequest()));
      const heard = [refOf(token).itemId];
      for (let k = 1; k < 8; k++) {
        await h.call(audioEvent('AudioPlayer.PlaybackStarted', token, 0));
        const next = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', token, 150_000)));
        await h.call(audioEvent('AudioPlayer.PlaybackFinished', token, 180_000));
        token = next;
        heard.push(refOf(token).itemId);
      }
      await h.call(audioEvent('AudioPlayer.PlaybackStarted', token, 0));
      return { h, token, heard };
    }

    it.each([
      ['a thumbs-down', 'ThumbsDownIntent', 20_000],
      ['"next" at 5 s', 'AMAZON.NextIntent', 5_000],
      ['"something calmer"', 'CalmerIntent', 20_000],
    ] as const)(
      '%s changes the very next item against a twin that said nothing',
      async (_name, intent, at) => {
        const [a, b] = [await voiceTwin(), await voiceTwin()];
        expect(a.heard).toEqual(b.heard);
        const said = await a.h.call(intentRequest(intent, { player: player(a.token, at) }));
        // "Next" plays the new item at once (REPLACE_ALL); the others answer in speech and pick at the end.
        const nextA =
          intent === 'AMAZON.NextIntent'
            ? refOf(tokenOf(said)).itemId
            : refOf(
                tokenOf(await a.h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', a.token, 150_000))),
              ).itemId;
        const nextB = refOf(
          tokenOf(await b.h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', b.token, 150_000))),
        ).itemId;
        expect(nextA).not.toBe(nextB);
      },
      60_000,
    );
  });
});
