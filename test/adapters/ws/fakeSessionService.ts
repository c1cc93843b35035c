import { OmakaseError } from '../../../models/omakaseError.ts';
import type {
  Changed,
  DeliveredItem,
  ResumeRequest,
  SeqFeedback,
  SessionNotice,
  SessionOpened,
  SessionService,
  StartRequest,
} from '../../../sessions/sessionService.ts';

interface FakeSession {
  id: string;
  token: string;
  owner: string | undefined;
  delivered: DeliveredItem[];
  listeners: Set<(notice: SessionNotice) => void>;
  ended: boolean;
  /** Who started it; a resume by another principal is SESSION_FORBIDDEN, as the manager answers. */
  principal: string | undefined;
}

/**
 * A small in-memory SessionService for the ws server's own tests (the real manager has its own suite).
 * Items are synthetic; `disliked` withdraws the next delivered item; `limit` makes the session run dry.
 */
export class FakeSessionService implements SessionService {
  /** Set by a test to report a refresh backlog (`SessionService.refreshWaitMs`). */
  refreshWaitMs?: () => number;
  readonly sessions = new Map<string, FakeSession>();
  readonly disconnects: { sessionId: string; connectionId: string }[] = [];
  /** Total `n` asked of `more`, per session: the server must never ask for more than the client's credit. */
  readonly asked = new Map<string, number>();
  /** Items a session can deliver before it runs dry. */
  limit = Number.POSITIVE_INFINITY;
  /** Pads each item's title to this many characters (frames large enough to fill socket buffers). */
  titleChars = 0;
  /** Makes the next call to `more` throw this. */
  failNextMore: unknown;
  private count = 0;
  private disconnectWaiters: (() => void)[] = [];

  async start(request: StartRequest): Promise<SessionOpened> {
    if (request.intent?.itemId === 'nope')
      throw new OmakaseError('ENGINE_UNKNOWN_ITEM', 'item nope is not in the catalog');
    const id = `s${++this.count}`;
    const session: FakeSession = {
      id,
      token: `t-${id}-0`,
      owner: request.connectionId,
      delivered: [],
      listeners: new Set(),
      ended: false,
      principal: request.principal,
    };
    this.sessions.set(id, session);
    return {
      sessionId: id,
      resumeToken: session.token,
      status: 'streaming',
      lastSeq: 0,
      missed: [],
      graceMs: 60_000,
    };
  }

  async resume(request: ResumeRequest): Promise<SessionOpened> {
    const session = this.sessions.get(request.sessionId);
    if (!session || session.ended)
      throw new OmakaseError('SESSION_NOT_FOUND', 'no such session; start a new one');
    if (session.principal !== request.principal)
      throw new OmakaseError('SESSION_FORBIDDEN', 'the session belongs to another principal');
    if (session.token !== request.resumeToken) {
      throw new OmakaseError(
        'SESSION_BAD_RESUME_TOKEN',
        'the resume token does not match; start a new session',
      );
    }
    session.token = `${session.token}+`;
    session.owner = request.connectionId;
    for (const listener of session.listeners) listener({ type: 'taken-over' });
    const lastSeq = session.delivered.length;
    const missed = session.delivered.filter((item) => item.seq > request.lastSeq);
    return {
      sessionId: session.id,
      resumeToken: session.token,
      status: 'streaming',
      lastSeq,
      missed,
      graceMs: 60_000,
    };
  }

  async more(sessionId: string, connectionId: string, n: number): Promise<DeliveredItem[]> {
    const session = this.owned(sessionId, connectionId);
    this.asked.set(sessionId, (this.asked.get(sessionId) ?? 0) + n);
    if (this.failNextMore !== undefined) {
      const err = this.failNextMore;
      this.failNextMore = undefined;
      throw err;
    }
    const out: DeliveredItem[] = [];
    while (out.length < n && session.delivered.length < this.limit) {
      const seq = session.delivered.length + 1;
      const item = fakeItem(seq);
      if (this.titleChars > 0) item.title = item.title.padEnd(this.titleChars, '.');
      session.delivered.push(item);
      out.push(item);
    }
    return out;
  }

  async feedback(sessionId: string, connectionId: string, feedback: SeqFeedback): Promise<Changed> {
    const session = this.owned(sessionId, connectionId);
    if (feedback.type === 'disliked' && session.delivered.length > feedback.seq) {
      return { invalidated: [feedback.seq + 1] };
    }
    return { invalidated: [] };
  }

  async steer(sessionId: string, connectionId: string): Promise<Changed> {
    this.owned(sessionId, connectionId);
    return { invalidated: [] };
  }

  async pause(sessionId: string, connectionId: string): Promise<void> {
    this.owned(sessionId, connectionId);
  }

  async play(sessionId: string, connectionId: string): Promise<void> {
    this.owned(sessionId, connectionId);
  }

  async end(sessionId: string, connectionId: string): Promise<void> {
    this.owned(sessionId, connectionId).ended = true;
  }

  disconnected(sessionId: string, connectionId: string): void {
    this.disconnects.push({ sessionId, connectionId });
    for (const resolve of this.disconnectWaiters.splice(0)) resolve();
  }

  /** Resolves once `disconnected` has been called for `sessionId`. */
  async disconnectedOnce(sessionId: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.disconnects.some((d) => d.sessionId === sessionId)) {
      if (Date.now() > deadline) throw new Error(`no disconnect for ${sessionId} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.disconnectWaiters.push(resolve);
        setTimeout(resolve, timeoutMs).unref();
      });
    }
  }

  subscribe(sessionId: string, listener: (notice: SessionNotice) => void): () => void {
    const session = this.sessions.get(sessionId);
    session?.listeners.add(listener);
    return () => session?.listeners.delete(listener);
  }

  /** Sends a notice to every subscriber of the session. */
  notify(sessionId: string, notice: SessionNotice): void {
    for (const listener of this.sessions.get(sessionId)?.listeners ?? []) listener(notice);
  }

  async close(): Promise<void> {}

  private owned(sessionId: string, connectionId: string): FakeSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new OmakaseError('SESSION_NOT_FOUND', 'no such session');
    if (session.ended) throw new OmakaseError('SESSION_EXPIRED', 'the session expired; start a new one');
    if (session.owner !== connectionId)
      throw new OmakaseError('SESSION_TAKEN_OVER', 'another connection owns it');
    return session;
  }
}

function fakeItem(seq: number): DeliveredItem {
  return {
    seq,
    pos: seq - 1,
    id: `item-${seq}`,
    title: `Title ${seq}`,
    artist: `Artist ${seq % 7}`,
    durationMs: 180_000,
    startMs: seq * 180_000,
    score: 0.5,
    propensity: 1,
    degraded: false,
    reasons: {
      source: ['ann'],
      score: 0.5,
      rank: 0,
      mmr: 0.5,
      explored: false,
      degraded: false,
      model: 'fake',
      rules: [],
      removed: {},
      candidates: 1,
    },
  };
}
