/**
 * The servers the ws bench compares against: a bare `ws` echo server (the transport's ceiling), a sample of a
 * real item frame to size its frames, and an instant session service (the ws server's own cost).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from '../adapters/protocol.ts';
import type { DeliveredItem, SessionService } from '../sessions/sessionService.ts';
import { blankReasons } from './blankReasons.ts';

/**
 * A bare `ws` server answering `more` with n copies of `itemFrame` and each other request with an ack. Like
 * the omakase server, it corks the socket at a tick's first frame and uncorks it once the tick's jobs have run,
 * so the frames a tick produces leave in one write.
 */
export async function echoServer(itemFrame: string): Promise<{ url: string; close: () => Promise<void> }> {
  const item = JSON.stringify(JSON.parse(itemFrame).item);
  const welcome = {
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    sessionId: 'echo',
    resumeToken: 'echo',
    status: 'streaming',
    lastSeq: 0,
    limits: DEFAULT_LIMITS,
    heartbeatMs: 30_000,
    graceMs: 120_000,
  };
  const http = createServer();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: DEFAULT_LIMITS.maxPayload,
    perMessageDeflate: false,
  });
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      let corked = false;
      const uncork = (): void => {
        corked = false;
        socket.uncork();
      };
      // Just enough protocol for the client library: a welcome, items with rising seqs, an ack per request.
      let seq = 0;
      ws.on('message', (data) => {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        const msg = JSON.parse(data.toString()) as { type: string; id: unknown; n?: number };
        if (msg.type === 'more') {
          const re = JSON.stringify(msg.id);
          for (let i = 0; i < (msg.n ?? 0); i++)
            ws.send(`{"type":"item","seq":${++seq},"item":${item},"re":${re}}`);
        } else if (msg.type === 'hello') {
          ws.send(JSON.stringify({ ...welcome, id: msg.id }));
        } else {
          ws.send(JSON.stringify({ type: msg.type === 'ping' ? 'pong' : 'ack', id: msg.id }));
        }
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** One real item frame, so the echo server sends frames of the size the real server sends. */
export async function sampleItemFrame(url: string): Promise<string> {
  const ws = new WebSocket(url);
  await new Promise((resolve) => ws.once('open', resolve));
  const frame = new Promise<string>((resolve) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"welcome"')) ws.send(JSON.stringify({ type: 'more', id: 'm', n: 1 }));
      if (text.includes('"item"')) resolve(text);
    });
  });
  ws.send(JSON.stringify({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 999_999 } }));
  const text = await frame;
  ws.close();
  return text;
}

/** Answers every call at once: what is left is the ws server and the protocol. */
export function instantService(item: {
  id: string;
  title: string;
  artist: string;
  album?: string;
  durationMs: number;
}): SessionService {
  const seqs = new Map<string, number>();
  const reasons = blankReasons('none');
  let count = 0;
  const opened = (sessionId: string) => ({
    sessionId,
    resumeToken: 'x',
    status: 'streaming' as const,
    lastSeq: seqs.get(sessionId) ?? 0,
    missed: [],
    graceMs: 0,
  });
  return {
    async start() {
      const id = `s${++count}`;
      seqs.set(id, 0);
      return opened(id);
    },
    resume: async (req) => opened(req.sessionId),
    async more(id, _owner, n) {
      let seq = seqs.get(id) ?? 0;
      const out: DeliveredItem[] = [];
      for (let i = 0; i < n; i++) {
        seq++;
        // Fields written out: on this Node an object spread costs microseconds per item, which would be
        // charged to the server under test.
        out.push({
          id: item.id,
          title: item.title,
          artist: item.artist,
          album: item.album,
          durationMs: item.durationMs,
          seq,
          pos: seq - 1,
          startMs: seq,
          score: 0,
          propensity: 1,
          degraded: false,
          reasons,
        });
      }
      seqs.set(id, seq);
      return out;
    },
    feedback: async () => ({ invalidated: [] }),
    steer: async () => ({ invalidated: [] }),
    async pause() {},
    async play() {},
    async end() {},
    disconnected: (id) => void seqs.delete(id),
    subscribe: () => () => {},
    async close() {},
  };
}
