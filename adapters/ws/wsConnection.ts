import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { isOmakaseError, OmakaseError } from '../../models/omakaseError.ts';
import type {
  DeliveredItem,
  SessionNotice,
  SessionOpened,
  SessionService,
} from '../../sessions/sessionService.ts';
import type { WireTrailer } from '../../sessions/wireTrailer.ts';
import {
  CLOSE_CODES,
  type ClientMessage,
  type CloseCode,
  type FeedbackMessage,
  type HelloMessage,
  type ItemMessage,
  isParseError,
  type Limits,
  type ParseError,
  PROTOCOL_VERSION,
  type ProtoErrorCode,
  parseClientMessage,
  type RequestId,
  type ServerMessage,
  type WireItem,
} from '../protocol.ts';
import type { Admission } from './admission.ts';
import { Credit } from './credit.ts';
import { Outbound } from './outbound.ts';
import { TokenBucket } from './tokenBucket.ts';
import { toWireError } from './toWireError.ts';
import { hashId, WireRecorder } from './wireRecorder.ts';

/** What the server reports as it runs (metrics and logs hang off these); every hook is optional. */
export interface WsObserver {
  connectionClosed?(connection: WsConnection, code: number): void;
  sessionOpened?(connection: WsConnection, how: 'start' | 'resume'): void;
  itemsSent?(n: number): void;
  feedback?(kind: string): void;
  /** An `error` frame went out with this code. */
  errorSent?(code: string, connection: WsConnection): void;
  /** A connection was closed by the server for this reason (a limit, overload, auth, a slow reader). */
  refused?(code: number, reason: string, connection?: WsConnection): void;
}

/** What every connection of one server shares. */
export interface ConnectionContext {
  service: SessionService;
  limits: Limits;
  heartbeatMs: number;
  /** Above this many bytes waiting in the socket, the server stops fetching items until the socket flushes. */
  highWaterBytes: number;
  /** Items fetched from the service per call (at most the outstanding credit). */
  chunk: number;
  /** Send each item's `reasons` (QA and debugging clients). */
  reasons: boolean;
  /** Which local connection owns each session, so a takeover closes the older socket at once. */
  owners: Map<string, WsConnection>;
  /** Called once the socket has closed and the session was told. */
  onClosed(connection: WsConnection): void;
  admission: Admission;
  observer: WsObserver;
  /** Writes the frames sent after a session's last log entry (the `end` answer) once it has ended. */
  trailer?: WireTrailer;
}

/** Who is on the other end, as the upgrade established it. */
export interface Peer {
  /** The client address (the first X-Forwarded-For hop when the server trusts a proxy). */
  address: string;
  /** The authenticated principal, or `addr:<address>` when authentication is off. */
  principal: string;
}

/** Session codes after which the session cannot take any more requests. */
const SESSION_GONE = new Set(['SESSION_NOT_FOUND', 'SESSION_EXPIRED', 'SESSION_ENDED']);

const protoError = (code: ProtoErrorCode, message: string): OmakaseError => new OmakaseError(code, message);

/**
 * One client socket: the handshake time box, the request queue, cumulative credit and the item pump.
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
  private readonly credit = new Credit();
  /** Highest seq this session has sent (welcome's lastSeq counts): feedback beyond it is PROTO_UNKNOWN_SEQ. */
  private highestSeq = 0;
  private pending = 0;
  private chain: Promise<void> = Promise.resolve();
  private pumping = false;
  private starved = false;
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
    await Promise.race([this.chain.then(() => this.pumpRun), late, this.gone]);
    clearTimeout(timer);
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
      const { messagesPerSecond, messageBurst } = this.ctx.admission.limits;
      const reason = `more than ${messagesPerSecond} frames a second (burst ${messageBurst}); slow down, then resume`;
      this.refuse(4429, 'PROTO_RATE_LIMITED', reason);
      return;
    }
    const text = isBinary ? '' : data.toString('utf8');
    const parsed: ClientMessage | ParseError = isBinary
      ? { error: { code: 'PROTO_MALFORMED_JSON', message: 'send text frames, not binary' } }
      : parseClientMessage(text, this.ctx.limits);
    if (isBinary) this.wire.binary(data.length);
    else
      this.wire.inbound(
        text,
        !isParseError(parsed) && parsed.type === 'hello' ? parsed.resume?.resumeToken : undefined,
      );
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
    if (this.draining) {
      const message =
        'the server is draining: this request was not handled; resume elsewhere and send it again';
      this.send(toWireError(protoError('PROTO_DRAINING', message), id));
      return;
    }
    if (this.pending >= this.ctx.limits.maxPending) {
      const message = `more than ${this.ctx.limits.maxPending} requests waiting; wait for answers`;
      this.send(toWireError(protoError('PROTO_TOO_MANY_REQUESTS', message), id));
      return;
    }
    this.pending++;
    this.ctx.admission.inFlight++;
    this.chain = this.chain.then(task).then(this.settled, (err) => {
      this.settled();
      this.fail(err, id);
    });
  }

  private readonly settled = (): void => {
    this.pending--;
    this.ctx.admission.inFlight--;
  };

  /** Runs one request; the promise (when the request waits on the session) settles once it is answered. */
  private handle(msg: ClientMessage): Promise<void> | undefined {
    if (this.state === 'closed') return;
    if (msg.type === 'hello') return this.hello(msg);
    if (this.state === 'handshake') {
      // Sent right behind a hello the session layer refused: nothing to apply it to.
      throw protoError('PROTO_HELLO_REQUIRED', 'the hello before this request failed; send hello again');
    }
    const sid = this.sessionId as string;
    const { service } = this.ctx;
    switch (msg.type) {
      case 'more':
        if (this.draining) throw protoError('PROTO_DRAINING', 'the server is draining; resume elsewhere');
        if (this.credit.outstanding + msg.n > this.ctx.limits.maxCredit) {
          const message = `outstanding credit ${this.credit.outstanding} + ${msg.n} exceeds ${this.ctx.limits.maxCredit}`;
          throw protoError('PROTO_CREDIT_EXCEEDED', message);
        }
        this.credit.grant(msg.id, msg.n);
        this.starved = false;
        this.kick();
        return;
      case 'feedback':
        return this.feedback(msg);
      case 'steer':
        this.flushWire();
        return service
          .steer(sid, this.connectionId, msg.steer, { key: String(msg.id) })
          .then((changed) => this.answered(msg.id, changed.invalidated, 'steer'));
      case 'pause':
      case 'play': {
        // The request id is the idempotency key: a request sent again after a lost answer applies once.
        const key = { key: String(msg.id) };
        this.flushWire();
        return (
          msg.type === 'pause'
            ? service.pause(sid, this.connectionId, key)
            : service.play(sid, this.connectionId, key)
        ).then(() => this.answered(msg.id, [], msg.type));
      }
      case 'end':
        this.flushWire();
        return service.end(sid, this.connectionId).then(() => {
          this.send({ type: 'ack', id: msg.id });
          this.sessionOver = true;
          this.send({ type: 'ended', reason: 'ended', id: msg.id });
          this.close(4000, 'session ended');
          this.trailWire(sid);
        });
    }
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
    const { service, admission } = this.ctx;
    const { principal } = this.peer;
    const busy = admission.overloaded();
    if (busy !== undefined) {
      this.refuse(
        admission.draining ? 1001 : 1013,
        admission.draining ? 'PROTO_DRAINING' : 'PROTO_OVERLOADED',
        busy,
        msg.id,
      );
      return;
    }
    let opened: SessionOpened;
    if (msg.resume) {
      if (!admission.sessionRoom(principal)) {
        this.refuse(1013, 'PROTO_OVERLOADED', 'too many open sessions for this principal', msg.id);
        return;
      }
      try {
        opened = await service.resume({ connectionId: this.connectionId, principal, ...msg.resume });
      } catch (err) {
        this.send(toWireError(err, msg.id));
        if (isOmakaseError(err, 'SESSION_FORBIDDEN'))
          this.close(4403, 'session belongs to another principal');
        else this.close(4410, 'resume refused');
        return;
      }
    } else {
      const refused = admission.admitStart(principal);
      if (refused !== undefined) {
        this.refuse(1013, refused.code, refused.reason, msg.id);
        return;
      }
      // A refused start leaves the socket in its handshake: the client may fix the request and say hello again.
      opened = await service.start({ connectionId: this.connectionId, principal, ...msg.start });
    }
    if (this.state === 'closed') {
      // The socket went away while the session opened: let the session wait out its grace window.
      service.disconnected(opened.sessionId, this.connectionId);
      return;
    }
    admission.sessionOpened(principal);
    this.counted = true;
    this.ctx.observer.sessionOpened?.(this, msg.resume ? 'resume' : 'start');
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    this.sessionId = opened.sessionId;
    const previous = this.ctx.owners.get(opened.sessionId);
    if (previous && previous !== this) previous.takenOver();
    this.ctx.owners.set(opened.sessionId, this);
    // Subscribing after the resume resolved: a takeover notice the resume itself raised was for the old owner.
    this.unsubscribe = service.subscribe(opened.sessionId, (notice) => this.onNotice(notice));
    this.highestSeq = opened.lastSeq;
    const { sessionId, resumeToken, status, lastSeq, graceMs } = opened;
    this.wire.opened({
      sessionId,
      principal: hashId(principal),
      limits: this.ctx.limits,
      heartbeatMs: this.ctx.heartbeatMs,
      chunk: this.ctx.chunk,
      reasons: this.ctx.reasons,
      graceMs,
    });
    this.send({
      type: 'welcome',
      id: msg.id,
      protocol: PROTOCOL_VERSION,
      sessionId,
      resumeToken,
      status,
      lastSeq,
      limits: this.ctx.limits,
      heartbeatMs: this.ctx.heartbeatMs,
      graceMs,
    });
    // Missed items were paid for by the old connection's credit, so they do not use any of this one's.
    for (const item of opened.missed) this.sendItem(item, undefined);
    if (opened.missed.length > 0) this.ctx.observer.itemsSent?.(opened.missed.length);
  }

  private feedback(msg: FeedbackMessage): Promise<void> {
    if (msg.seq > this.highestSeq) {
      throw protoError(
        'PROTO_UNKNOWN_SEQ',
        `seq ${msg.seq} was never sent; the last sent seq is ${this.highestSeq}`,
      );
    }
    const feedback =
      msg.kind === 'skipped'
        ? { type: msg.kind, seq: msg.seq, atMs: msg.atMs as number }
        : { type: msg.kind, seq: msg.seq };
    this.flushWire();
    return this.ctx.service
      .feedback(this.sessionId as string, this.connectionId, feedback, { key: String(msg.id) })
      .then((changed) => {
        this.ctx.observer.feedback?.(msg.kind);
        this.answered(msg.id, changed.invalidated, 'feedback');
      });
  }

  /** The durable ack, then what the change withdrew; a change may also unblock a starved pump. */
  private answered(id: RequestId, invalidated: number[], reason: string): void {
    this.send({ type: 'ack', id });
    if (invalidated.length > 0) this.send({ type: 'invalidated', seqs: invalidated, reason, id });
    if (this.starved && this.credit.outstanding > 0) {
      this.starved = false;
      this.kick();
    }
  }

  /** The pump's current run, so a drain can wait for items already being fetched. */
  private pumpRun: Promise<void> = Promise.resolve();

  private kick(): void {
    if (!this.pumping) this.pumpRun = this.pump();
  }

  /** Sends items while there is credit, in chunks, never past the socket's high-water mark. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.credit.outstanding > 0 && this.state === 'open' && !this.starved && !this.draining) {
        if (this.ws.bufferedAmount > this.ctx.highWaterBytes) {
          await this.out.flushed(this.gone);
          continue;
        }
        const n = Math.min(this.credit.outstanding, this.ctx.chunk);
        this.flushWire();
        const items = await this.ctx.service.more(this.sessionId as string, this.connectionId, n);
        if (this.state !== 'open') return;
        if (items.length === 0) {
          this.starved = true;
          this.send({ type: 'starved', credit: this.credit.outstanding, re: this.credit.oldest });
          return;
        }
        // A service that returns more than asked must not make the server exceed the client's credit.
        const sent = items.slice(0, n);
        for (const item of sent) this.sendItem(item, this.credit.spend());
        this.ctx.observer.itemsSent?.(sent.length);
      }
    } catch (err) {
      // Outstanding credit is dropped on a failed fetch: the client asks again rather than the server looping.
      const re = this.credit.oldest;
      this.credit.drop();
      this.fail(err, re);
    } finally {
      this.pumping = false;
    }
  }

  /** One object literal, encoded once: JSON leaves out the fields that are undefined (album, reasons, re). */
  private sendItem(item: DeliveredItem, re: RequestId | undefined): void {
    const wire: WireItem = {
      id: item.id,
      title: item.title,
      artist: item.artist,
      durationMs: item.durationMs,
      startMs: item.startMs,
      degraded: item.degraded,
      album: item.album,
      reasons: this.ctx.reasons ? { ...item.reasons } : undefined,
    };
    if (item.seq > this.highestSeq) this.highestSeq = item.seq;
    const frame: ItemMessage = { type: 'item', seq: item.seq, item: wire, re };
    this.out.write(JSON.stringify(frame));
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
    const reason = `more than ${this.ctx.admission.limits.maxBufferedBytes} bytes waiting for this client to read`;
    this.ctx.observer.refused?.(4413, reason, this);
    this.close(4413, reason);
    setTimeout(() => this.terminate(), 1000).unref();
  }

  private fail(err: unknown, id: RequestId | undefined): void {
    const wire = toWireError(err, id);
    if (wire.code === 'SESSION_TAKEN_OVER') {
      this.takenOver();
      return;
    }
    this.send(wire);
    if (wire.code === 'SESSION_FORBIDDEN') {
      this.sessionOver = true;
      this.close(4403, 'session belongs to another principal');
      return;
    }
    if (this.state === 'open' && SESSION_GONE.has(wire.code)) {
      // Nothing more can be done on this session: say so with a close code a client can act on.
      this.sessionOver = true;
      this.close(4000, `session gone: ${wire.code}`);
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
