/**
 * `npm run golden`: records the golden sessions replayed by test/golden/golden.test.ts. Starts a real
 * `omakase serve` (the built-in demo catalog and model, a fresh data directory, the voice endpoint on with
 * `--alexa-unverified` as docs/voice.md's local demo runs it), drives the WebSocket sessions with a plain `ws`
 * client speaking docs/protocol.md and the voice session with plain HTTP POSTs of Alexa request envelopes,
 * stops the server, and writes each session's log from the data directory to test/golden/NAME.jsonl (one
 * event per line). WebSocket seeds are fixed; run it again after the model or the engine changes on purpose,
 * and commit the files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  audioEvent,
  controllerCommand,
  intentRequest,
  type Player,
  SKILL_ID,
} from '../adapters/voice/alexaRequests.ts';

const CLI = fileURLToPath(new URL('../../adapters/cli/omakase.js', import.meta.url));
const OUT = fileURLToPath(new URL('.', import.meta.url));

type Frame = { type: string; [k: string]: unknown };

/** A client that keeps every frame and waits for the ones it needs. */
class Client {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Client(ws);
  }
  send(msg: Record<string, unknown>): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...msg, id }));
    return id;
  }
  async until(what: string, ok: (frames: Frame[]) => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!ok(this.frames)) {
      if (Date.now() > deadline) throw new Error(`golden: no ${what} within 20 s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
  items(): Frame[] {
    return this.frames.filter((f) => f.type === 'item');
  }
  /** Asks for `n` more and waits until they came (withdrawn ones are replaced, so count new seqs). */
  async more(n: number): Promise<Frame[]> {
    const before = this.items().length;
    this.send({ type: 'more', n });
    await this.until(`${n} items`, () => this.items().length >= before + n);
    return this.items().slice(before, before + n);
  }
  async ack(msg: Record<string, unknown>): Promise<void> {
    const id = this.send(msg);
    await this.until(`an answer to ${id}`, (fs) => fs.some((f) => f.id === id && f.type !== 'item'));
  }
  async close(): Promise<void> {
    this.ws.close();
    await new Promise((resolve) => this.ws.once('close', resolve));
  }
}

async function hello(url: string, start: Record<string, unknown>): Promise<{ client: Client; id: string }> {
  const client = await Client.open(url);
  client.send({ type: 'hello', protocol: 1, start });
  await client.until('a welcome', (fs) => fs.some((f) => f.type === 'welcome'));
  return { client, id: String(client.frames.find((f) => f.type === 'welcome')!.sessionId) };
}

const seqOf = (f: Frame) => f.seq as number;

/** An endless feed: pages of items, a like, skips, a dislike, a steer, "more like this". */
async function wsScroll(url: string): Promise<string> {
  const { client, id } = await hello(url, { seed: 101, intent: { text: 'something calm' } });
  const page1 = await client.more(8);
  await client.ack({ type: 'feedback', seq: seqOf(page1[0]), kind: 'completed' });
  await client.ack({ type: 'feedback', seq: seqOf(page1[1]), kind: 'liked' });
  await client.ack({ type: 'feedback', seq: seqOf(page1[2]), kind: 'skipped', atMs: 4000 });
  await client.ack({ type: 'feedback', seq: seqOf(page1[3]), kind: 'disliked' });
  const page2 = await client.more(8);
  await client.ack({ type: 'steer', steer: { kind: 'tag', tag: 'jazz' } });
  await client.ack({ type: 'feedback', seq: seqOf(page2[page2.length - 1]), kind: 'started' });
  await client.ack({ type: 'ping' });
  await client.more(12);
  await client.close();
  return id;
}

/** A long radio session (the DMCA rules): 120 items five at a time, skips, likes, two steers. */
async function radio(url: string): Promise<string> {
  const { client, id } = await hello(url, { seed: 202, profile: 'radio', intent: { tag: 'rock' } });
  for (let page = 0; page < 24; page++) {
    const items = await client.more(5);
    if (page % 3 === 1)
      await client.ack({ type: 'feedback', seq: seqOf(items[1]), kind: 'skipped', atMs: 9000 });
    if (page % 5 === 2) await client.ack({ type: 'feedback', seq: seqOf(items[0]), kind: 'liked' });
    if (page === 8) await client.ack({ type: 'steer', steer: { kind: 'tag', tag: 'calm' } });
    if (page === 16) await client.ack({ type: 'steer', steer: { kind: 'text', text: 'more upbeat' } });
  }
  await client.close();
  return id;
}

/** An Echo's player as the directives it was sent leave it: what plays, what is queued. */
class Device {
  playing = '';
  queued = '';
  offsetMs = 0;
  constructor(private readonly url: string) {}
  player(): Player {
    return { token: this.playing, offsetInMilliseconds: this.offsetMs };
  }
  async send(body: string): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const json = (await response.json()) as {
      response?: {
        directives?: { type: string; playBehavior?: string; audioItem?: { stream: { token: string } } }[];
      };
    };
    if (response.status !== 200)
      throw new Error(`golden: voice answered ${response.status}: ${JSON.stringify(json)}`);
    for (const d of json.response?.directives ?? []) {
      if (d.type !== 'AudioPlayer.Play' || !d.audioItem) continue;
      if (d.playBehavior === 'REPLACE_ALL') {
        this.playing = d.audioItem.stream.token;
        this.queued = '';
      } else this.queued = d.audioItem.stream.token;
    }
  }
  /** The playing item plays to its end, and the queued one starts. */
  async playThrough(): Promise<void> {
    await this.send(audioEvent('AudioPlayer.PlaybackNearlyFinished', this.playing, 170_000));
    await this.send(audioEvent('AudioPlayer.PlaybackFinished', this.playing, 180_000));
    this.playing = this.queued;
    this.queued = '';
    this.offsetMs = 0;
    await this.send(audioEvent('AudioPlayer.PlaybackStarted', this.playing));
  }
}

/** A voice stream: "play some jazz", a track played out, "next", a dislike, pause and resume, steers, "stop". */
async function voice(url: string): Promise<string> {
  const device = new Device(url);
  await device.send(intentRequest('PlayIntent', { slots: { genre: 'jazz' } }));
  const id = device.playing.split(':')[0];
  await device.send(audioEvent('AudioPlayer.PlaybackStarted', device.playing));
  await device.playThrough();
  device.offsetMs = 40_000;
  await device.send(intentRequest('AMAZON.NextIntent', { player: device.player() }));
  await device.send(audioEvent('AudioPlayer.PlaybackStarted', device.playing));
  device.offsetMs = 25_000;
  await device.send(intentRequest('ThumbsDownIntent', { player: device.player() }));
  await device.send(intentRequest('AMAZON.PauseIntent', { player: device.player() }));
  await device.send(audioEvent('AudioPlayer.PlaybackStopped', device.playing, 26_000));
  await device.send(intentRequest('AMAZON.ResumeIntent', { player: device.player() }));
  await device.send(audioEvent('AudioPlayer.PlaybackStarted', device.playing, 26_000));
  await device.send(intentRequest('ThumbsUpIntent', { player: device.player() }));
  await device.playThrough();
  await device.send(intentRequest('CalmerIntent', { player: device.player() }));
  await device.send(controllerCommand('PlaybackController.NextCommandIssued', device.player()));
  await device.send(audioEvent('AudioPlayer.PlaybackStarted', device.playing));
  await device.playThrough();
  await device.send(intentRequest('AMAZON.StopIntent', { player: device.player() }));
  return id;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omakase-golden-'));
  const args = ['serve', '--port', '0', '--data-dir', dataDir, '--voice-port', '0'];
  // The voice endpoint as docs/voice.md's local demo runs it: no Alexa signatures to check.
  args.push('--alexa-skill-id', SKILL_ID, '--stream-url', 'https://media.example.com/{id}.mp3');
  args.push('--alexa-unverified');
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REDIS_URL: '', OMAKASE_REDIS_CLUSTER: '' },
  });
  let out = '';
  const [url, voiceUrl] = await new Promise<[string, string]>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c;
      const ws = /listening on (ws:\/\/\S+)/.exec(out);
      const alexa = /endpoint: (http:\/\/\S+?\/alexa)/.exec(out);
      if (ws && alexa) resolve([ws[1], alexa[1]]);
    });
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  const sessions = {
    'ws-scroll': await wsScroll(url),
    radio: await radio(url),
    voice: await voice(voiceUrl),
  };
  // The disconnects (and the frames sent before them) are written once the server saw each close.
  await new Promise((resolve) => setTimeout(resolve, 500));
  proc.kill('SIGTERM');
  await new Promise((resolve) => proc.once('exit', resolve));
  for (const [name, id] of Object.entries(sessions)) {
    const lines = readFileSync(join(dataDir, 'live', `${id}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((row) => 'e' in row)
      .map((row) => JSON.stringify(row.e));
    writeFileSync(join(OUT, `${name}.jsonl`), `${lines.join('\n')}\n`);
    process.stdout.write(`golden: ${name}.jsonl, ${lines.length} events (session ${id})\n`);
  }
}

await main();
