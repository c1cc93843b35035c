import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../adapters/protocol.ts';

/** What the listeners saw during one fault. */
export interface Seen {
  errors: Record<string, number>;
  closes: Record<string, number>;
  resumedOn: Record<string, number>;
  sessionsLost: number;
}
export const newSeen = (): Seen => ({ errors: {}, closes: {}, resumedOn: {}, sessionsLost: 0 });
const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};
const KINDS = ['completed', 'skipped', 'liked', 'completed', 'skipped', 'disliked'] as const;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One listener of `bench/faults.ts`, a plain WebSocket client written from docs/protocol.md (not the project's
 * client): it streams three items at a time with feedback on each, resumes on another node when its socket
 * drops, sends its unanswered requests again with their ids, and counts what it saw into `seen()`.
 */
export class FaultListener {
  ws: WebSocket | undefined;
  sessionId = '';
  resumeToken = '';
  lastSeq = 0;
  node = '';
  /** Feedback the server acknowledged: seq → kind. */
  readonly acked = new Map<number, string>();
  /** Requests sent and not yet answered (resent with the same id after a resume). */
  private readonly open = new Map<string, Record<string, unknown>>();
  private nextId = 0;
  lastItemAt = 0;
  seqFaults = 0;
  /** Each gap or repeat: the seq expected, the one that came, and when. */
  readonly seqFaultSamples: { expected: number; got: number; at: number }[] = [];
  /** Gaps right after a refused `more`: its picks' seqs are not used again (docs/protocol.md, Seq). */
  seqsSkipped = 0;
  private moreRefused = false;
  /** Seqs the server withdrew (`invalidated`): a resume does not send them again, so they may leave a gap. */
  readonly withdrawn = new Set<number>();
  stopped = false;
  private credit = 0;

  constructor(
    readonly index: number,
    /** The nodes up now: name and WebSocket URL. */
    private readonly up: () => readonly (readonly [string, string])[],
    /** Where the fault under way counts what the listeners saw. */
    private readonly seen: () => Seen,
  ) {}

  async connect(resume: boolean): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const candidates = this.up();
      // Resume on another node than the one that failed, as a load balancer would send it.
      const [name, url] =
        candidates.find(([n]) => n !== this.node) ??
        candidates[attempt % Math.max(1, candidates.length)] ??
        [];
      if (url === undefined) {
        await delay(200);
        continue;
      }
      const outcome = await this.hello(url, resume);
      if (outcome === 'ok') {
        this.node = name!;
        if (resume) bump(this.seen().resumedOn, name!);
        // Credit belongs to the connection; unanswered feedback goes again, with its id.
        this.credit = 0;
        for (const frame of this.open.values()) this.ws!.send(JSON.stringify(frame));
        return;
      }
      if (outcome === 'refused') {
        // The session is gone: counted as lost, and the listener starts over.
        this.seen().sessionsLost++;
        resume = false;
        this.open.clear();
        this.credit = 0;
        this.lastSeq = 0;
      }
      await delay(Math.min(2_000, 100 * 2 ** attempt));
    }
  }

  private hello(url: string, resume: boolean): Promise<'ok' | 'refused' | 'retry'> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      let welcomed = false;
      ws.on('error', () => {});
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            id: `h${this.nextId++}`,
            protocol: PROTOCOL_VERSION,
            ...(resume
              ? {
                  resume: { sessionId: this.sessionId, resumeToken: this.resumeToken, lastSeq: this.lastSeq },
                }
              : { start: { seed: this.index + 1 } }),
          }),
        ),
      );
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (!welcomed) {
          if (frame.type === 'welcome') {
            welcomed = true;
            this.ws = ws;
            this.sessionId = frame.sessionId;
            this.resumeToken = frame.resumeToken;
            resolve('ok');
          } else if (frame.type === 'error') {
            bump(this.seen().errors, frame.code);
            resolve(frame.retryable ? 'retry' : 'refused');
            ws.terminate();
          }
          return;
        }
        this.onFrame(frame);
      });
      ws.on('close', (code) => {
        if (!welcomed) return resolve('retry');
        if (this.ws !== ws || this.stopped) return;
        bump(this.seen().closes, String(code));
        this.ws = undefined;
        // A fatal code ends the session on purpose; every other close is a fault to resume from.
        void this.connect(code !== 4000 && code !== 4410);
      });
    });
  }

  private send(frame: Record<string, unknown>): void {
    this.open.set(frame.id as string, frame);
    this.ws?.send(JSON.stringify(frame));
  }

  /** Asks for three more whenever the last are in (checked every 100 ms). */
  pace(): void {
    const timer = setInterval(() => {
      if (this.stopped) return clearInterval(timer);
      if (this.ws?.readyState === WebSocket.OPEN && this.credit === 0) {
        this.credit = 3;
        this.ws.send(JSON.stringify({ type: 'more', id: `m${this.nextId++}`, n: 3 }));
      }
    }, 100);
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (frame.type === 'item') {
      const seq = frame.seq as number;
      if (seq <= this.lastSeq) return; // a resent item already seen
      let expected = this.lastSeq + 1;
      while (this.withdrawn.has(expected)) expected++;
      if (seq > expected && this.moreRefused) this.seqsSkipped += seq - expected;
      else if (seq !== expected) {
        this.seqFaults++;
        this.seqFaultSamples.push({ expected, got: seq, at: Date.now() });
      }
      this.moreRefused = false;
      this.lastSeq = seq;
      this.lastItemAt = Date.now();
      this.credit = Math.max(0, this.credit - 1);
      const kind = KINDS[(seq + this.index) % KINDS.length];
      this.send({
        type: 'feedback',
        id: `f${seq}`,
        seq,
        kind,
        ...(kind === 'skipped' ? { atMs: 4_000 } : {}),
      });
    } else if (frame.type === 'invalidated') {
      for (const seq of frame.seqs as number[]) this.withdrawn.add(seq);
    } else if (frame.type === 'starved') {
      this.credit = 0;
    } else if (frame.type === 'ack' || frame.type === 'error') {
      const request = this.open.get(frame.id as string);
      if (request === undefined) {
        // A `more` refused (its credit is dropped): asked again on the next pace.
        if (frame.type === 'error') {
          bump(this.seen().errors, frame.code as string);
          this.credit = 0;
          this.moreRefused = true;
        }
        return;
      }
      if (frame.type === 'ack') {
        this.open.delete(frame.id as string);
        if (request.type === 'feedback') this.acked.set(request.seq as number, request.kind as string);
      } else {
        bump(this.seen().errors, frame.code as string);
        if (frame.retryable)
          // Sent again with the same id: the server applies it once (docs/protocol.md, resend).
          setTimeout(() => this.open.has(frame.id as string) && this.ws?.send(JSON.stringify(request)), 300);
        else this.open.delete(frame.id as string);
      }
    }
  }
}
