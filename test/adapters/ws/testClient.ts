import WebSocket from 'ws';
import { decodeServerFrame, isFrameProblem } from '../../../adapters/client/serverFrame.ts';
import type { ClientMessage, ServerMessage } from '../../../adapters/protocol.ts';

type Frame = ServerMessage & Record<string, unknown>;

/**
 * A frame-level `ws` client for the server's own tests (they send malformed and out-of-order frames on
 * purpose, which the client library never would): every frame is queued, and `next` waits (with a timeout,
 * never a sleep) for the first queued frame that matches. Every frame the server sends is read with the
 * client library's decoder (adapters/client/serverFrame.ts), so each of these tests also checks that the
 * server speaks what the library understands; a frame it cannot read is kept in `unreadable`.
 */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  /** Frames the client library could not read, with the reason: the suites expect none. */
  readonly unreadable: string[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const text = data.toString();
      const decoded = decodeServerFrame(text);
      if (isFrameProblem(decoded)) this.unreadable.push(`${decoded.problem}: ${text.slice(0, 200)}`);
      const frame = JSON.parse(text) as Frame;
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
      else this.frames.push(frame);
    });
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
    const client = new TestClient(url, options);
    await client.opened;
    return client;
  }

  send(msg: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The first frame (already received or still to come) of `type` that passes `where`. */
  next<T extends Frame['type']>(
    type: T,
    where: (f: Extract<Frame, { type: T }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<Frame, { type: T }>> {
    if (this.unreadable.length > 0) {
      return Promise.reject(new Error(`the client library could not read: ${this.unreadable.join('; ')}`));
    }
    const match = (f: Frame): boolean => f.type === type && where(f as Extract<Frame, { type: T }>);
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0] as Extract<Frame, { type: T }>);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: resolve as (f: Frame) => void };
      this.waiters.push(waiter);
      setTimeout(() => {
        const k = this.waiters.indexOf(waiter);
        if (k < 0) return;
        this.waiters.splice(k, 1);
        reject(
          new Error(`no "${type}" frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames)}`),
        );
      }, timeoutMs).unref();
    });
  }

  /** Waits for `count` item frames, in arrival order. */
  async items(count: number): Promise<Extract<Frame, { type: 'item' }>[]> {
    const out: Extract<Frame, { type: 'item' }>[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next('item'));
    return out;
  }

  /** Sends a ping and waits for its pong: every frame the server sent before it has then arrived. */
  async settle(): Promise<void> {
    const id = `settle-${Math.random()}`;
    this.send({ type: 'ping', id });
    await this.next('pong', (f) => f.id === id);
  }

  /** Closes the socket; throws afterwards when the server sent a frame the client library cannot read. */
  close(): void {
    this.ws.close();
    if (this.unreadable.length > 0) {
      throw new Error(
        `the client library could not read frames the server sent: ${this.unreadable.join('; ')}`,
      );
    }
  }
}
