/**
 * How many picks a feedback takes to reach the stream, measured from outside against a running server (as a
 * client written from docs/protocol.md would): twin sessions with the same seed and intent ask for one item
 * at a time and report `completed` on each; at item 8 one twin says `disliked` (or `skipped` at 5 s) instead.
 * The lag is how many items after that the twins still agree (0: the very next item answers the listener).
 * Last line: one JSON object.
 *
 *   npm start &   then   npx tsx bench/twinLag.ts      (OMAKASE_URL=ws://host:port/ws, TWIN_SEEDS=6)
 */
import WebSocket from 'ws';

const URL = process.env.OMAKASE_URL ?? 'ws://127.0.0.1:8080/ws';
const SEEDS = Number(process.env.TWIN_SEEDS ?? 6);
const AFTER = 10;

interface Frame {
  type: string;
  [key: string]: unknown;
}

/** One session over one socket: requests with ids, frames awaited by type. */
async function open(seed: number) {
  const ws = new WebSocket(URL);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const queue: Frame[] = [];
  const waiting: ((f: Frame) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  const next = (): Promise<Frame> =>
    queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve));
  /** The next frame of `type`; an `error` frame fails the run. */
  const expect = async (type: string): Promise<Frame> => {
    for (;;) {
      const frame = await next();
      if (frame.type === 'error') throw new Error(`server error: ${JSON.stringify(frame)}`);
      if (frame.type === type) return frame;
    }
  };
  let id = 0;
  const send = (frame: Record<string, unknown>) => ws.send(JSON.stringify({ id: ++id, ...frame }));
  send({ type: 'hello', protocol: 1, start: { seed, intent: { text: 'play some jazz' } } });
  await expect('welcome');
  let seq = 0;
  return {
    async item(): Promise<string> {
      send({ type: 'more', n: 1 });
      const frame = await expect('item');
      seq = frame.seq as number;
      return (frame.item as { id: string }).id;
    },
    async tell(kind: string, atMs?: number): Promise<void> {
      send({ type: 'feedback', seq, kind, ...(atMs === undefined ? {} : { atMs }) });
      await expect('ack');
    },
    close: () => ws.close(),
  };
}

const rows: { kind: string; seed: number; lag: number }[] = [];
for (const [kind, atMs] of [
  ['disliked', undefined],
  ['skipped', 5_000],
] as const) {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const a = await open(seed);
    const b = await open(seed);
    for (let k = 1; k <= 8; k++) {
      const [x, y] = [await a.item(), await b.item()];
      if (x !== y) throw new Error(`seed ${seed}: the twins differ at item ${k}, before any feedback`);
      if (k < 8) await Promise.all([a.tell('completed'), b.tell('completed')]);
    }
    await Promise.all([a.tell(kind, atMs), b.tell('completed')]);
    let lag = 0;
    while (lag < AFTER) {
      const [x, y] = [await a.item(), await b.item()];
      if (x !== y) break;
      lag++;
      await Promise.all([a.tell('completed'), b.tell('completed')]);
    }
    rows.push({ kind, seed, lag });
    a.close();
    b.close();
  }
}
for (const kind of ['disliked', 'skipped']) {
  const lags = rows.filter((r) => r.kind === kind).map((r) => r.lag);
  console.log(
    `${kind === 'skipped' ? 'skip at 5 s' : 'dislike'}: the twins agreed for ${lags.join(', ')} more items (seeds 1-${SEEDS})`,
  );
}
console.log(
  JSON.stringify({ bench: 'twin-lag', url: URL, rows, maxLag: Math.max(...rows.map((r) => r.lag)) }),
);
