import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatDuration, trainCommand } from '../../../adapters/cli/commands/trainCommand.ts';
import { writeCatalogFile } from '../../../engine/catalogFile.ts';
import { writeSessionsFile } from '../../../engine/sessionsFile.ts';
import { syntheticWorld } from '../../engine/eval/fixture.ts';

const HOUR = 3_600_000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-train-'));
  const { catalog, sessions } = syntheticWorld(300);
  // No embeddings in the file, so training learns them (item2vec), as on an imported dataset.
  await writeCatalogFile(join(dir, 'catalog.jsonl'), catalog.items);
  // A session every 15 minutes over 75 hours: the last day is test, the day before validation.
  await writeSessionsFile(
    join(dir, 'sessions.jsonl'),
    sessions.map((s, i) => ({ ...s, startMs: 1_397_000_000_000 + i * (HOUR / 4) })),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('omakase train', () => {
  it('prints how long it took, and its last stdout line is one JSON object', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    try {
      await trainCommand().parseAsync(
        [
          '--catalog',
          join(dir, 'catalog.jsonl'),
          '--sessions',
          join(dir, 'sessions.jsonl'),
          '--out',
          join(dir, 'model'),
          '--split',
          'time',
          '--epochs',
          '1',
          '--drop-features',
          'ctx2,negative_run',
          '--liked-weight',
          '3',
          '--quiet',
        ],
        { from: 'user' },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(err.join('')).toMatch(/training took \d/);
    const lines = out.join('').trimEnd().split('\n');
    const last = JSON.parse(lines[lines.length - 1]);
    expect(last).toMatchObject({ model: join(dir, 'model'), seconds: expect.any(Number) });
    // The last 24 h hold 96 sessions (test), the 24 h before 96 (validation): 108 are left to train on.
    expect(last.sessions).toBe(108);
    const card = JSON.parse(await readFile(join(dir, 'model', 'model-card.json'), 'utf8'));
    expect(card.training.data).toMatch(/train split \(by time: test = sessions starting after/);
    expect(card.training.hyperparameters).toMatchObject({
      droppedFeatures: 'ctx2,negative_run',
      stepsPerSession: 64,
      likedWeight: 3,
    });
  });

  it('trains with the softmax loss on the served candidate count and says so in the card', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await trainCommand().parseAsync(
        [
          ...['--catalog', join(dir, 'catalog.jsonl'), '--sessions', join(dir, 'sessions.jsonl')],
          ...['--out', join(dir, 'softmax'), '--split', 'time', '--epochs', '1', '--quiet'],
          ...['--loss', 'softmax', '--training-candidates', '500', '--negatives', '8'],
        ],
        { from: 'user' },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const card = JSON.parse(await readFile(join(dir, 'softmax', 'model-card.json'), 'utf8'));
    expect(card.training.hyperparameters).toMatchObject({
      loss: 'softmax',
      trainingCandidates: 500,
      negativesPerStep: 8,
    });
  });

  it('--ensemble 2 --ensemble-data writes one model of two members and says so', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((m) => {
      err.push(String(m));
      return true;
    });
    try {
      await trainCommand().parseAsync(
        [
          ...['--catalog', join(dir, 'catalog.jsonl'), '--sessions', join(dir, 'sessions.jsonl')],
          ...['--out', join(dir, 'ensemble'), '--split', 'time', '--epochs', '1', '--quiet'],
          ...['--seed', '5', '--ensemble', '2', '--ensemble-data'],
        ],
        { from: 'user' },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const card = JSON.parse(await readFile(join(dir, 'ensemble', 'model-card.json'), 'utf8'));
    expect(card.training.hyperparameters).toMatchObject({
      ensemble: 2,
      ensembleSeeds: [5, 6],
      ensembleData: true,
    });
    expect(err.join('')).toContain("an ensemble of 2, members' mean val AUC");
  });

  it('refuses an ensemble of none', async () => {
    await expect(
      trainCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parseAsync(['--demo', '--out', join(dir, 'x'), '--ensemble', '0'], { from: 'user' }),
    ).rejects.toThrow(/--ensemble must be at least 1/);
  });

  it('refuses a loss it does not know', async () => {
    await expect(
      trainCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parseAsync(['--demo', '--out', join(dir, 'x'), '--loss', 'hinge'], { from: 'user' }),
    ).rejects.toThrow(/--loss must be logistic or softmax/);
  });

  it('refuses a feature the schema does not have, naming the columns', async () => {
    await expect(
      trainCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parseAsync(['--demo', '--out', join(dir, 'x'), '--drop-features', 'nope'], {
          from: 'user',
        }),
    ).rejects.toThrow(/unknown feature nope; the columns are sim_query/);
  });

  it('refuses a liked weight that is not a positive number', async () => {
    await expect(
      trainCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parseAsync(['--demo', '--out', join(dir, 'x'), '--liked-weight', '0'], { from: 'user' }),
    ).rejects.toThrow(/must be a positive number/);
  });

  it('writes durations as minutes and seconds', () => {
    expect(formatDuration(298.4)).toBe('4 min 58 s');
    expect(formatDuration(12.34)).toBe('12.3 s');
  });
});
