import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoTurn } from '../../../adapters/voice/voiceDemo.ts';
import { writeCatalogFile } from '../../../engine/catalogFile.ts';
import { smallCatalog } from '../../engine/fixtures.ts';

let dir: string;
let catalogPath: string;
const catalog = smallCatalog({ items: 400, artists: 40 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-voice-cli-'));
  catalogPath = join(dir, 'catalog.jsonl');
  await writeCatalogFile(catalogPath, catalog.items);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs `omakase voice` with `script` piped to stdin; resolves with stdout once it exits. */
function run(
  args: string[],
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['adapters/cli/omakase.js', 'voice', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(script);
  });
}

const SCRIPT = [
  'play some genre3',
  'wait',
  'skip',
  'I love this',
  'not this artist',
  'something calmer',
  'more like this',
  'play some genre5',
  'pause',
  'resume',
  'something more upbeat',
  'sing me a song',
  'stop',
].join('\n');

describe('omakase voice (a piped script of utterances)', () => {
  it('maps each utterance to the Alexa request and session event, and prints what plays and why', async () => {
    const { code, stdout, stderr } = await run(['--catalog', catalogPath, '--seed', '5', '--json'], SCRIPT);
    expect(code, stderr).toBe(0);
    const turns = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DemoTurn);
    expect(turns.map((t) => t.request ?? 'none')).toEqual([
      'PlayIntent',
      'wait',
      'AMAZON.NextIntent',
      'ThumbsUpIntent',
      'LessArtistIntent',
      'CalmerIntent',
      'MoreLikeThisIntent',
      'PlayIntent',
      'AMAZON.PauseIntent',
      'AMAZON.ResumeIntent',
      'MoodIntent',
      'none',
      'AMAZON.StopIntent',
    ]);
    const [
      play,
      wait,
      skip,
      like,
      lessArtist,
      calmer,
      moreLike,
      genre,
      pause,
      resume,
      upbeat,
      unknown,
      stop,
    ] = turns;
    expect(play.speech).toBe('Playing genre3.');
    expect(play.playing?.tags).toContain('genre3');
    expect(play.playing?.why).toMatch(/score -?\d+\.\d\d, rank \d+/);
    expect(play.queued).toBeDefined();
    // "wait": the queued item plays.
    expect(wait.playing?.seq).toBe(play.queued?.seq);
    expect(skip.heard).toEqual([`feedback skipped #${wait.playing?.seq} at 20 s`]);
    expect(skip.playing?.seq).not.toBe(wait.playing?.seq);
    expect(like.heard).toEqual([`feedback liked #${skip.playing?.seq}`]);
    expect(lessArtist.heard).toEqual([
      `steer ${JSON.stringify({ kind: 'less-artist', artist: like.playing?.artist })}`,
    ]);
    expect(lessArtist.queued?.artist).not.toBe(like.playing?.artist);
    expect(calmer.heard).toEqual([`steer ${JSON.stringify({ kind: 'mood', tag: 'calm' })}`]);
    expect(calmer.queued?.tags).toContain('calm');
    expect(moreLike.heard).toEqual([
      `steer ${JSON.stringify({ kind: 'more-like', itemId: calmer.playing?.id })}`,
    ]);
    expect(genre.speech).toBe('Playing genre5.');
    expect(genre.heard).toEqual([`steer ${JSON.stringify({ kind: 'tag', tag: 'genre5' })}`]);
    expect(pause.paused).toBe(true);
    expect(resume.paused).toBe(false);
    expect(resume.playing?.seq).toBe(pause.playing?.seq);
    expect(upbeat.slots).toEqual({ mood: 'upbeat' });
    expect(upbeat.heard).toEqual([`steer ${JSON.stringify({ kind: 'mood', tag: 'upbeat' })}`]);
    expect(unknown.unknown).toBe(true);
    expect(stop.playing).toBeUndefined();
    // Nothing played twice (a queued item a steer withdrew never played, and may come back later).
    const played = new Map<number, string>();
    for (const t of turns) if (t.playing) played.set(t.playing.seq, t.playing.id);
    expect(played.size).toBe(3);
    expect(new Set(played.values()).size).toBe(played.size);
  }, 60_000);

  it('"play some genre5" after "something calmer" plays genre5, not calm genre5 only', async () => {
    const script = [
      'play some genre3',
      'something calmer',
      'play some genre5',
      'wait',
      'wait',
      'wait',
      'wait',
    ];
    const { code, stdout, stderr } = await run(
      ['--catalog', catalogPath, '--seed', '5', '--json'],
      script.join('\n'),
    );
    expect(code, stderr).toBe(0);
    const [, calmer, genre, ...waits] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DemoTurn);
    expect(calmer.queued?.tags).toContain('calm');
    expect(genre.heard).toEqual([`steer ${JSON.stringify({ kind: 'tag', tag: 'genre5' })}`]);
    const next = [genre.queued, ...waits.map((w) => w.queued)].map((i) => i?.tags ?? []);
    expect(next.every((tags) => tags.includes('genre5'))).toBe(true);
    expect(next.some((tags) => !tags.includes('calm'))).toBe(true);
  }, 60_000);

  it('prints readable lines by default', async () => {
    const { code, stdout } = await run(['--catalog', catalogPath, '--seed', '5'], 'play some genre2\nskip\n');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^> play some genre2\n {2}request: PlayIntent \{"genre":"genre2"\}\n {2}alexa: "Playing genre2\."/m,
    );
    expect(stdout).toMatch(/^ {2}playing: #\d+ Artist \d+ - Track \d+ {2}\[genre\d\/\w+\] {2}\(/m);
    expect(stdout).toMatch(/^ {2}session: feedback skipped #1 at 20 s$/m);
  }, 60_000);
});
