import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlexaHandler } from './alexaHandler.ts';
import { VOICE_ERRORS, type VoiceErrorCode } from './errors.ts';

export interface VoiceServerOptions {
  handler: AlexaHandler;
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 127.0.0.1: the endpoint is meant to sit behind a TLS proxy on the same host. */
  host?: string;
  /** Default /alexa. */
  path?: string;
  /** Largest body read, in bytes (default 128 KiB; Alexa requests are a few kB). */
  maxBodyBytes?: number;
}

export interface VoiceServer {
  readonly server: Server;
  readonly port: number;
  /** e.g. http://127.0.0.1:41234/alexa */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, text = JSON.stringify(body)): void {
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function refuse(res: ServerResponse, code: VoiceErrorCode, message: string, close = false): void {
  // An unread body left on a keep-alive socket would be parsed as the next request: close it instead.
  if (close) res.setHeader('connection', 'close');
  send(res, VOICE_ERRORS[code].status, { error: { code, message } });
}

/** Bytes that are not UTF-8 are refused, not replaced with U+FFFD as `Buffer.toString` would. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads the raw body; undefined once it passes `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A small node:http endpoint for the Alexa handler: POST {path} with the raw body (the signature covers the
 * exact bytes, so nothing parses it first). Plain HTTP: put it behind a TLS proxy, as Alexa calls https only.
 *
 * @example
 * const voice = await createVoiceServer({ handler, port: 8443 });
 */
export async function createVoiceServer(options: VoiceServerOptions): Promise<VoiceServer> {
  const path = options.path ?? '/alexa';
  const maxBodyBytes = options.maxBodyBytes ?? 128 * 1024;
  const server = createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      if (pathname !== path)
        return refuse(res, 'VOICE_NOT_FOUND', `Nothing here; Alexa posts to ${path}.`, true);
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return refuse(res, 'VOICE_METHOD_NOT_ALLOWED', `${path} takes POST only.`, true);
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBodyBytes) {
        return refuse(res, 'VOICE_BODY_TOO_LARGE', `The body exceeds ${maxBodyBytes} bytes.`, true);
      }
      const body = await readBody(req, maxBodyBytes);
      if (body === undefined) {
        return refuse(res, 'VOICE_BODY_TOO_LARGE', `The body exceeds ${maxBodyBytes} bytes.`, true);
      }
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return refuse(res, 'VOICE_MALFORMED_JSON', 'The request body is not valid UTF-8; send JSON text.');
      }
      const answer = await options.handler(text, req.headers);
      send(res, answer.status, answer.body, answer.text);
    } catch {
      // The handler never rejects; this is a broken socket or a bug, and nothing internal goes out.
      if (!res.headersSent)
        send(res, 500, { error: { code: 'INTERNAL', message: 'internal error; retry later' } });
      else res.destroy();
    }
  });
  // Alexa waits about 8 s for an answer; a client that sends slower than that is not Alexa.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    server,
    port,
    url: `http://${host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
