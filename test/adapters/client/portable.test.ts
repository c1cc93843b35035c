import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { FakeSessionService } from '../ws/fakeSessionService.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLIENT = join(ROOT, 'adapters/client');

describe('the client library runs anywhere', () => {
  it('imports nothing but itself and the protocol module', () => {
    const imports = readdirSync(CLIENT)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [
          ...readFileSync(join(CLIENT, f), 'utf8').matchAll(
            /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm,
          ),
        ].map((m) => m[1]),
      );
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !/^\.\/\w+\.ts$/.test(i) && i !== '../protocol.ts')).toEqual([]);
  });

  it('bundles for the browser with esbuild, with nothing left to resolve', async () => {
    const out = await build({
      entryPoints: [join(CLIENT, 'omakaseClient.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].text;
    expect(code).toMatch(/OmakaseClient = class\b|class OmakaseClient\b/);
    expect(code).not.toMatch(/\b(require|import)\s*\(?\s*["'](node:|ws["'])/);
  });

  describe('in Node 20 with the global WebSocket (node --experimental-websocket)', () => {
    let server: WsServer;
    beforeAll(async () => {
      server = await createWsServer({ service: new FakeSessionService(), port: 0 });
    });
    afterAll(() => server?.close());

    it('opens a session and receives items', async () => {
      const script = `
        import { OmakaseClient } from ${JSON.stringify(join(CLIENT, 'omakaseClient.ts'))};
        const client = new OmakaseClient({ url: process.argv[1] });
        const seqs = [];
        client.on('item', ({ seq }) => { seqs.push(seq); if (seqs.length === 3) { client.close(); console.log(JSON.stringify(seqs)); } });
        await client.connect();
        client.more(3);`;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--experimental-websocket',
          '--no-warnings',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          `ws://127.0.0.1:${server.address().port}`,
        ],
        { cwd: ROOT, timeout: 20_000 },
      );
      expect(JSON.parse(stdout.trim())).toEqual([1, 2, 3]);
    });
  });
});
