import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/**
 * One connection's way out: frames written in one tick (a pump pass, the acks of a burst of feedback) go to
 * the OS in one write, nothing is queued past `maxBufferedBytes`, and `flushed` says when every frame sent so
 * far has been handed to the OS.
 */
export class Outbound {
  /** The TCP socket under `ws`, corked while a tick writes frames so they leave in one write. */
  private readonly socket: Duplex;
  private corked = false;
  /** Frames handed to `ws`, and frames whose write callback came back (in order: the socket writes in order). */
  private sent = 0;
  private written = 0;
  /** Set while `flushed` waits: called once `written` reaches `sent` as it was when the wait began. */
  private onFlushed: { upTo: number; resolve: () => void } | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
    /** Told of each frame as it goes out (the wire recorder hashes it). */
    private readonly onFrame: (frame: string) => void,
    /** The client stopped reading: called instead of queueing a frame past `maxBufferedBytes`. */
    private readonly onOverflow: () => void,
  ) {
    // `ws` has no cork of its own; its maintainers point to the socket's (websockets/ws#1999).
    this.socket = (ws as unknown as { _socket: Duplex })._socket;
  }

  /**
   * Writes one frame, with a callback, so `flushed` can wait for every frame and not only items: the first of
   * a tick corks the socket, and it is uncorked once the tick's promise jobs have run.
   */
  write(frame: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount + frame.length > this.maxBufferedBytes) {
      this.onOverflow();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.sent++;
    this.onFrame(frame);
    this.ws.send(frame, this.wrote);
  }

  /**
   * Resolves once every frame sent so far has been handed to the OS (or `gone` resolved: a socket that dies
   * mid-write may never call back), then yields to I/O, so a high-water loop can never spin without letting
   * the socket drain.
   */
  async flushed(gone: Promise<void>): Promise<void> {
    if (this.written < this.sent) {
      const upTo = this.sent;
      const all = new Promise<void>((resolve) => {
        this.onFlushed = { upTo, resolve };
      });
      await Promise.race([all, gone]);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly wrote = (): void => {
    this.written++;
    const waiter = this.onFlushed;
    if (waiter !== undefined && this.written >= waiter.upTo) {
      this.onFlushed = undefined;
      waiter.resolve();
    }
  };
}
