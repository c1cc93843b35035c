/**
 * The device `bench/voiceBench.ts` times: one Alexa AudioPlayer stream (launch, then for each item
 * PlaybackNearlyFinished, timed, and PlaybackFinished + PlaybackStarted between them, not timed), over any
 * way of sending a request body. Run as a script it is that device in a process of its own, as Alexa is to
 * a skill endpoint: `tsx bench/voiceDevice.ts <url> <count> <warmup>` prints one JSON line
 * `{ times, sentAt, items }` (`sentAt`: each timed request's send time, ms since the epoch).
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { AlexaResponseEnvelope, PlayDirective } from '../adapters/voice/alexaResponse.ts';

export const BENCH_SKILL_ID = 'amzn1.ask.skill.voice-bench';

export type Send = (body: string) => Promise<AlexaResponseEnvelope>;

export interface Listened {
  /** Milliseconds per timed request, in the order sent. */
  times: number[];
  /** When each timed request was sent, ms since the epoch (comparable across processes). */
  sentAt: number[];
  /** Distinct items enqueued. */
  items: number;
}

/** POSTs bodies to `url` over one keep-alive socket, one at a time. */
export function httpSender(url: string): { send: Send; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send: Send = (body) =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`answered ${res.statusCode}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

let n = 0;
function envelope(request: Record<string, unknown>, token?: string): string {
  return JSON.stringify({
    version: '1.0',
    context: {
      ...(token ? { AudioPlayer: { token, offsetInMilliseconds: 0, playerActivity: 'PLAYING' } } : {}),
      System: {
        application: { applicationId: BENCH_SKILL_ID },
        user: { userId: 'amzn1.ask.account.bench' },
        device: { deviceId: 'amzn1.ask.device.bench', supportedInterfaces: { AudioPlayer: {} } },
      },
    },
    request: {
      requestId: `bench.${process.pid}.${++n}`,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      locale: 'en-US',
      ...request,
    },
  });
}
const audio = (type: string, token: string, offset: number) =>
  envelope({ type: `AudioPlayer.${type}`, token, offsetInMilliseconds: offset }, token);
const playOf = (answer: AlexaResponseEnvelope) => {
  const play = answer.response.directives?.find((d): d is PlayDirective => d.type === 'AudioPlayer.Play');
  if (!play) throw new Error(`no Play in ${JSON.stringify(answer)}`);
  return play;
};

/** One device's stream: `count` PlaybackNearlyFinished answers timed after `warmup` untimed ones. */
export async function listen(send: Send, count: number, warmup: number): Promise<Listened> {
  let token = playOf(await send(envelope({ type: 'LaunchRequest' }))).audioItem.stream.token;
  await send(audio('PlaybackStarted', token, 0));
  const times: number[] = [];
  const sentAt: number[] = [];
  const items = new Set<string>();
  for (let i = 0; i < warmup + count; i++) {
    const body = audio('PlaybackNearlyFinished', token, 170_000);
    const t = performance.now();
    const answer = await send(body);
    const ms = performance.now() - t;
    if (i >= warmup) {
      times.push(ms);
      sentAt.push(performance.timeOrigin + t);
    }
    const play = playOf(answer);
    if (play.playBehavior !== 'ENQUEUE' || play.audioItem.stream.expectedPreviousToken !== token)
      throw new Error(`not an ENQUEUE after ${token}: ${JSON.stringify(play)}`);
    await send(audio('PlaybackFinished', token, 180_000));
    token = play.audioItem.stream.token;
    items.add(token.split(':')[2]);
    await send(audio('PlaybackStarted', token, 0));
  }
  return { times, sentAt, items: items.size };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, count, warmup] = process.argv.slice(2);
  const http = httpSender(url);
  const result = await listen(http.send, Number(count), Number(warmup));
  http.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
