import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { SessionNotice } from '../../sessions/sessionService.ts';
import {
  CLOSE_CODES,
  type ClientMessage,
  type CloseCode,
  type HelloMessage,
  isParseError,
  PROTOCOL_VERSION,
  type ProtoErrorCode,
  type RequestId,
  type ServerMessage,
} from '../protocol.ts';
import type { ConnectionContext, Peer } from './connectionContext.ts';
import { ItemPump, type PumpHost } from './itemPump.ts';
import { openSession, welcomeFor } from './openSession.ts';
import { Outbound } from './outbound.ts';
import { protoError } from './protoError.ts';
import { readFrame } from './readFrame.ts';
import { overflowRefusal, queueRefusal, rateRefusal, type WireRefusal } from './refusals.ts';
import { RequestChain } from './requestChain.ts';
import { type RequestHost, serveRequest } from './serveRequest.ts';
import { TokenBucket } from './tokenBucket.ts';
import { closeAfterError, toWireError } from './toWireError.ts';
import { WireRecorder } from './wireRecorder.ts';

/**
 * One client socket and its state: the handshake time box, frames in (readFrame.ts) and out (outbound.ts),
 * the request queue (requestChain.ts), the session a hello opens (openSession.ts) and the requests served on
 * it (serveRequest.ts), the item pump against the client's credit (itemPump.ts), and how the socket closes.
 * Requests are handled one at a time in arrival order (a steer then a feedback reach the session in the order
 * sent); `ping` is answered at once.
 */
export class WsConnection {
  readonly connectionId = randomUUID();
  /** Cleared by the heartbeat, set again only by a pong: a client that sends but never answers pings is dead. */
  alive = true;
  /** Set by `drain`: no request is taken any more, those in flight are answered, then the socket closes. */
  private draining = false;
  /** The session this connection counts against its principal's cap. */
  private counted = false;
  private readonly rate: TokenBucket;
  private sessionId: string | undefined;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  /** Requests in arrival order, one at a time. */
  private readonly requests: RequestChain;
  /** Items out, against the client's credit. */
  private readonly pump: ItemPump;
  /** This connection as its session's requests see it (serveRequest.ts). */
  private readonly host: RequestHost;
  /** A hello is queued or done: requests pipelined behind it wait for it instead of failing the handshake. */
  private helloSeen = false;
  /** Ended or taken over: nothing to tell the session when the socket closes. */
  private sessionOver = false;
  /** Frames out: corked per tick, capped at `maxBufferedBytes`, with a wait for them to be flushed. */
  private readonly out: Outbound;
  private unsubscribe: (() => void) | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly gone: Promise<void>;
  /** Frames in and hashes of frames out, written with the session's log for exact replay. */
  private readonly wire: WireRecorder;

  constructor(
    readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    readonly peer: Peer,
  ) {
    const { messagesPerSecond, messageBurst } = ctx.admission.limits;
    this.rate = new TokenBucket(messagesPerSecond, messageBurst);
    this.requests = new RequestChain(ctx.admission);
    this.wire = new WireRecorder(this.connectionId);
    this.out = new Outbound(
      ws,
      ctx.admission.limits.maxBufferedBytes,
      (frame) => this.wire.outbound(frame),
      () => this.overflow(),
    );
    this.handshakeTimer = setTimeout(
      () => this.close(4408, 'no hello within the handshake time box'),
      ctx.limits.handshakeTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    // Oversized frames and protocol violations surface here; `ws` then closes the socket (1009, 1002).
    ws.on('error', () => {});
    this.gone = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('close', (code) => this.onClose(code));
    const host: PumpHost & RequestHost = {
      ws,
      out: this.out,
      gone: this.gone,
      connectionId: this.connectionId,
      sessionId: () => this.sessionId as string,
      isOpen: () => this.state === 'open',
      isDraining: () => this.draining,
      fetch: (n) => {
        this.flushWire();
        return ctx.service.more(this.sessionId as string, this.connectionId, n);
      },
      send: (msg) => this.send(msg),
      fail: (err, id) => this.fail(err, id),
      flushWire: () => this.flushWire(),
      ended: (id) => this.ended(id),
    };
    this.host = host;
    this.pump = new ItemPump(ctx, host);
  }

  /** Ends the socket without a closing handshake (the heartbeat found it dead). */
  terminate(): void {
    this.ws.terminate();
  }

  /** Currently attached session, if any (logs). */
  get session(): string | undefined {
    return this.sessionId;
  }

  close(code: CloseCode | 1000 | 1001 | 1013, reason: string): void {
    if (this.state !== 'closed') this.leave();
    this.ws.close(code, reason.slice(0, 120));
  }

  /** Closes for a limit or a refusal: the error frame first, then the code; reported to the observer. */
  refuse(code: CloseCode | 1001 | 1013, errorCode: ProtoErrorCode, reason: string, id?: RequestId): void {
    if (this.state === 'closed') return;
    this.send(toWireError(protoError(errorCode, reason), id));
    this.ctx.observer.refused?.(code, reason, this);
    this.close(code, reason);
  }

  /**
   * Stops taking requests, lets those in flight be answered (up to `timeoutMs`), then closes with 1001 so the
   * client resumes elsewhere. Resolves once the socket has closed.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return this.gone;
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.requests.settledAll.then(() => this.pump.run), late, this.gone]);
    clearTimeout(timer);
    // Recorded, unlike the closes the connection decides from what it received: a replay cannot know the
    // server was shutting down, so it closes its socket here with this code (and the session is told of
    // the disconnect, as it was live).
    if (this.ws.readyState === this.ws.OPEN) this.wire.closed(1001);
    this.close(1001, 'server draining; resume elsewhere');
    // A peer that does not answer the close frame is cut off rather than holding the drain up.
    const cut = setTimeout(() => this.terminate(), 1000);
    cut.unref();
    await this.gone;
    clearTimeout(cut);
  }

  /** Another connection took the session: tell this client why, then close with 4409. */
  takenOver(): void {
    if (this.state === 'closed') return;
    this.sessionOver = true;
    this.send({
      type: 'error',
      code: 'SESSION_TAKEN_OVER',
      message: CLOSE_CODES[4409].description,
      retryable: false,
    });
    this.close(4409, 'session taken over by a newer connection');
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (!this.rate.take()) {
      this.turnAway(rateRefusal(this.ctx.admission.limits));
      return;
    }
    const parsed = readFrame(data, isBinary, this.ctx.limits, this.wire);
    if (isParseError(parsed)) {
      const { code, message, id, type } = parsed.error;
      if (this.state === 'handshake' && !this.helloSeen) {
        this.send(toWireError(protoError(code, message), id));
        this.close(4400, 'the first message must be a valid hello');
        return;
      }
      // Behind a hello (answered or not): answered in its turn, after the requests sent before it, and the
      // session stays. A bad hello on a connection that has a session is still a second hello.
      this.enqueue(() => {
        if (type === 'hello' && this.state === 'open')
          throw protoError('PROTO_ALREADY_OPEN', 'this connection already has a session');
        throw protoError(code, message);
      }, id);
      return;
    }
    if (parsed.type === 'ping') {
      this.send({ type: 'pong', id: parsed.id });
      return;
    }
    if (parsed.type === 'hello') this.helloSeen = true;
    else if (this.state === 'handshake' && !this.helloSeen) {
      this.send(toWireError(protoError('PROTO_HELLO_REQUIRED', 'send hello first'), parsed.id));
      this.close(4400, 'the first message must be hello');
      return;
    }
    this.enqueue(() => this.handle(parsed), parsed.id);
  }

  /** Queues one request behind the others; refused when too many wait or the server is draining. */
  private enqueue(task: () => Promise<void> | undefined, id: RequestId | undefined): void {
    const refusal = queueRefusal(this.draining, this.requests.size, this.ctx.limits, id);
    if (refusal) {
      this.turnAway(refusal);
      return;
    }
    this.requests.add(task, (err) => this.fail(err, id));
  }

  /** Runs one request; the promise (when the request waits on the session) settles once it is answered. */
  private handle(msg: ClientMessage): Promise<void> | undefined {
    if (this.state === 'closed') return;
    if (msg.type === 'hello') return this.hello(msg);
    if (this.state === 'handshake') {
      // Sent right behind a hello the session layer refused: nothing to apply it to.
      throw protoError('PROTO_HELLO_REQUIRED', 'the hello before this request failed; send hello again');
    }
    return serveRequest(msg, this.ctx, this.pump, this.host);
  }

  /** The session was ended by request `id` (`end`): the answer, `ended`, then close 4000. */
  private ended(id: RequestId): void {
    this.send({ type: 'ack', id });
    this.sessionOver = true;
    this.send({ type: 'ended', reason: 'ended', id });
    this.close(4000, 'session ended');
    if (this.sessionId !== undefined) this.trailWire(this.sessionId);
  }

  private async hello(msg: HelloMessage): Promise<void> {
    if (this.state === 'open')
      throw protoError('PROTO_ALREADY_OPEN', 'this connection already has a session');
    if (msg.protocol !== PROTOCOL_VERSION) {
      const message = `protocol ${msg.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`;
      this.send(toWireError(protoError('PROTO_VERSION_UNSUPPORTED', message), msg.id));
      this.close(4406, 'protocol version not supported');
      return;
    }
    const outcome = await openSession(msg, this.ctx, this.peer, this.connectionId);
    if ('refused' in outcome) {
      const { code, errorCode, reason } = outcome.refused;
      this.refuse(code, errorCode, reason, msg.id);
      return;
    }
    if ('rejected' in outcome) {
      this.send(outcome.rejected.error);
      this.close(outcome.rejected.code, outcome.rejected.reason);
      return;
    }
    const { opened } = outcome;
    const { service, admission } = this.ctx;
    const { principal } = this.peer;
    if (this.state === 'closed') {
      // The socket went away while the session opened: let the session wait out its grace window.
      service.disconnected(opened.sessionId, this.connectionId);
      return;
    }
    admission.sessionOpened(principal);
    this.counted = true;
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    this.sessionId = opened.sessionId;
    // After the id is set: the observer's log line names the session.
    this.ctx.observer.sessionOpened?.(this, msg.resume ? 'resume' : 'start');
    const previous = this.ctx.owners.get(opened.sessionId);
    if (previous && previous !== this) previous.takenOver();
    this.ctx.owners.set(opened.sessionId, this);
    // Subscribing after the resume resolved: a takeover notice the resume itself raised was for the old owner.
    this.unsubscribe = service.subscribe(opened.sessionId, (notice) => this.onNotice(notice));
    this.pump.opened(opened.lastSeq);
    this.wire.opened(opened.sessionId, principal, opened.graceMs, this.ctx);
    this.send(welcomeFor(msg.id, opened, this.ctx));
    // Missed items were paid for by the old connection's credit, so they do not use any of this one's.
    for (const item of opened.missed) this.pump.send(item, undefined);
    if (opened.missed.length > 0) this.ctx.observer.itemsSent?.(opened.missed.length);
  }

  private send(msg: ServerMessage): void {
    if (msg.type === 'error') this.ctx.observer.errorSent?.(msg.code, this);
    this.out.write(JSON.stringify(msg));
  }

  /**
   * The client stopped reading: whatever kind of frame would go next, nothing more is queued for it. The close
   * frame itself may never reach a client that does not read, so the socket is cut a second later.
   */
  private overflow(): void {
    if (this.state === 'closed' && this.ws.readyState !== this.ws.OPEN) return;
    this.turnAway(overflowRefusal(this.ctx.admission.limits));
    setTimeout(() => this.terminate(), 1000).unref();
  }

  /** A refusal decided from the surroundings (rates, buffers, a drain): recorded for replay, then applied. */
  private turnAway(refusal: WireRefusal): void {
    this.wire.refused(refusal);
    this.applyRefusal(refusal);
  }

  /**
   * What a refusal does: with `close`, the error frame (if any) and the close; without, the request `id`
   * answered with the error and not handled. Public for exact replay, which applies each refusal its log
   * recorded where the log has it (the live limits and timing are not there to decide it again).
   */
  applyRefusal(refusal: WireRefusal): void {
    const { close, error, message, id } = refusal;
    if (close === undefined) {
      if (error !== undefined) this.send(toWireError(protoError(error, message), id));
    } else if (error !== undefined) {
      this.refuse(close, error, message, id);
    } else {
      this.ctx.observer.refused?.(close, message, this);
      this.close(close, message);
    }
  }

  private fail(err: unknown, id: RequestId | undefined): void {
    const wire = toWireError(err, id);
    if (wire.code === 'SESSION_TAKEN_OVER') {
      this.takenOver();
      return;
    }
    this.send(wire);
    const close = closeAfterError(wire.code, this.state === 'open');
    if (close !== undefined) {
      this.sessionOver = true;
      this.close(close.code, close.reason);
    }
  }

  private onNotice(notice: SessionNotice): void {
    if (this.state !== 'open') return;
    if (notice.type === 'invalidated') {
      this.send({ type: 'invalidated', seqs: notice.seqs, reason: notice.reason });
    } else if (notice.type === 'ended') {
      this.sessionOver = true;
      this.send({ type: 'ended', reason: notice.reason });
      this.close(4000, `session ended: ${notice.reason}`);
      if (this.sessionId !== undefined) this.trailWire(this.sessionId);
    } else {
      this.takenOver();
    }
  }

  /**
   * Detaches from the session. The session is told of the disconnect (and starts its grace window) only if
   * this connection still owned it and it has not ended or been taken over.
   */
  private leave(): void {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (this.counted) {
      this.counted = false;
      this.ctx.admission.sessionClosed(this.peer.principal);
    }
    clearTimeout(this.handshakeTimer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const sid = this.sessionId;
    if (!wasOpen || sid === undefined || this.ctx.owners.get(sid) !== this) return;
    this.ctx.owners.delete(sid);
    if (this.sessionOver) return;
    try {
      this.flushWire();
      this.ctx.service.disconnected(sid, this.connectionId);
    } catch {
      // The socket is gone either way; the session's own timeouts end it if it missed this.
    }
  }

  /** Hands the traffic so far to the session, to be written with its next log entry. */
  private flushWire(): void {
    const records = this.wire.take();
    if (records && this.sessionId !== undefined) this.ctx.service.record?.(this.sessionId, records);
  }

  /** The session has ended: what was sent since its last entry goes to its log as a final `adapter.wire`. */
  private trailWire(sessionId: string): void {
    const records = this.wire.take();
    if (records && this.ctx.trailer) void this.ctx.trailer(sessionId, records).catch(() => {});
  }

  private onClose(code: number): void {
    if (this.state !== 'closed') {
      // The client (or the network) closed it: a replay closes its socket here too.
      this.wire.closed(code);
      this.leave();
    }
    this.ctx.observer.connectionClosed?.(this, code);
    this.ctx.onClosed(this);
  }
}
