import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

/**
 * What a `WsConnection` uses of a `ws` socket, in memory: frames it sends are collected in order (`sent`),
 * frames fed with `receive` reach it as `message` events, and a close it asks for is answered on the next
 * turn, as a client that answers the closing handshake would.
 */
export class ReplaySocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  /** Every frame the connection sent, as text. */
  readonly sent: string[] = [];
  /** The close code the server asked for, if it closed the socket. */
  closedWith: number | undefined;
  readonly _socket = { cork() {}, uncork() {} };

  constructor(private readonly onSend: (frame: string) => void) {
    super();
  }

  send(frame: string, cb?: () => void): void {
    this.sent.push(frame);
    this.onSend(frame);
    cb?.();
  }

  receive(text: string, binary = false): void {
    if (this.readyState !== 1) return;
    this.emit('message', Buffer.from(text), binary);
  }

  close(code: number): void {
    if (this.readyState !== 1) return;
    this.closedWith = code;
    this.readyState = 2;
    setImmediate(() => this.finish(code));
  }

  /** The client or the network closed it (a recorded `close`). */
  drop(code: number): void {
    if (this.readyState === 3) return;
    this.finish(code);
  }

  terminate(): void {
    this.finish(1006);
  }

  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }

  private finish(code: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', code);
  }
}
