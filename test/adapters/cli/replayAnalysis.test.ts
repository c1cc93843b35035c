import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../../adapters/cli/commands/replayCommand.ts';
import { DEFAULT_MODEL_DIR } from '../../../adapters/runtime.ts';
import { writeCatalogFile } from '../../../engine/catalogFile.ts';
import { isOmakaseError } from '../../../models/omakaseError.ts';
import { openManagers } from '../../sessions/managerFixtures.ts';
import { catalog, livedSession } from '../../sessions/replayFixtures.ts';

let dir: string;
let catalogPath: string;
let logPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-analysis-'));
  catalogPath = join(dir, 'catalog.jsonl');
  logPath = join(dir, 'session.jsonl');
  await writeCatalogFile(catalogPath, catalog.items);
  const { events } = await livedSession();
  await writeFile(logPath, events.map((e) => JSON.stringify(e)).join('\n'));
});
afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(opts: Parameters<typeof runReplay>[0]) {
  let out = '';
  const ok = await runReplay({ catalog: catalogPath, log: logPath, ...opts }, (text) => {
    out += text;
  });
  return { ok, out };
}

describe('omakase replay --mode rescore | counterfactual | --html', () => {
  it('rescore with the model the session ran on: the same scores, exit ok', async () => {
    const { ok, out } = await run({ mode: 'rescore' });
    expect(ok).toBe(true);
    expect(out).toContain('exact replay: OK');
    expect(out).toMatch(
      /rescored with fallback: \d+ decisions, top pick changed in 0, mean Kendall tau 1\.000/,
    );
  });

  it('rescore with another model (the shipped ONNX one) on the logged candidates, and the timeline page', async () => {
    const html = join(dir, 'rescore.html');
    const { ok, out } = await run({ mode: 'rescore', model: DEFAULT_MODEL_DIR, html });
    // Another model is a finding, not a failure.
    expect(ok).toBe(true);
    expect(out).toMatch(/rescored with omakase-demo@1: \d+ decisions, top pick changed in [1-9]/);
    expect(out).toMatch(/deliveries: \d+, [1-9]\d* would differ/);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('Rescore: fallback → omakase-demo@1');
  });

  it('counterfactual of a policy config (more exploration): estimates with intervals and ESS', async () => {
    const config = join(dir, 'explore.json');
    await writeFile(config, JSON.stringify({ exploration: 0.5 }));
    const { ok, out } = await run({ mode: 'counterfactual', config, json: true });
    expect(ok).toBe(true);
    const result = JSON.parse(out);
    expect(result.counterfactual.target).toMatchObject({ rescored: false, model: 'fallback' });
    const { estimates } = result.counterfactual;
    expect(estimates.ips.low).toBeLessThanOrEqual(estimates.ips.value);
    expect(estimates.effectiveSampleSize).toBeGreaterThan(1);
    const text = (await run({ mode: 'counterfactual', config })).out;
    expect(text).toMatch(/SNIPS +\d\.\d{3} +\[-?\d\.\d{3}, \d\.\d{3}\]/);
    expect(text).toMatch(/effective sample size \d+\.\d of \d+/);
    // Another model with another config may put its mass where the logging policy never went: the report
    // then says how much, and gives no SNIPS rather than a number from no support.
    const other = (await run({ mode: 'counterfactual', config, model: DEFAULT_MODEL_DIR })).out;
    expect(other).toMatch(/SNIPS +(\d\.\d{3} +\[-?\d\.\d{3}, \d\.\d{3}\]|– +\[–, –\])/);
    expect(other).toMatch(/target mass without logging support \d\.\d{3}/);
  });

  it('refuses a counterfactual with nothing to evaluate, and a config that is not engine settings', async () => {
    const none = await run({ mode: 'counterfactual' }).catch((e) => e);
    expect(isOmakaseError(none, 'SESSION_INVALID_REQUEST')).toBe(true);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ explorashun: 0.5 }));
    const err = await run({ mode: 'counterfactual', config: bad }).catch((e) => e);
    expect(isOmakaseError(err, 'SESSION_INVALID_REQUEST')).toBe(true);
    expect((err as Error).message).toContain('"explorashun" is not an engine setting');
  });
});
