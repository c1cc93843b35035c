import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../adapters/config.ts';
import { replayVoice } from '../../../adapters/replay/voiceReplay.ts';
import { startVoiceEndpoint, streamUrlTemplate } from '../../../adapters/voice/voiceEndpoint.ts';
import type { VoiceServer } from '../../../adapters/voice/voiceServer.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { parseCatalogRow } from '../../../engine/catalogFile.ts';
import { createEngine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { isOmakaseError } from '../../../models/omakaseError.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { WIRE_TRAILER } from '../../../sessions/sessionLog.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import { createWireTrailer } from '../../../sessions/wireTrailer.ts';
import { missing } from '../../requirements.ts';
import { intentRequest, launchRequest, SKILL_ID } from './alexaRequests.ts';
import { CERT_URL, hasOpenssl, makeTestPki, signBody, type TestPki } from './testCerts.ts';
import { openServices, postJson, smallEngine } from './voiceHarness.ts';

const servers: VoiceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

function service(engine = smallEngine) {
  const s = createSessionManager({ engine, store: createMemoryStore() });
  openServices.push(s);
  return s;
}

const urlOf = (answer: { json: Record<string, unknown> }) =>
  (answer.json as { response: { directives: { audioItem: { stream: { url: string } } }[] } }).response
    .directives[0].audioItem.stream.url;

async function start(options: Partial<Parameters<typeof startVoiceEndpoint>[0]> = {}) {
  const logs: string[] = [];
  const warnings: string[] = [];
  const server = await startVoiceEndpoint({
    service: service(),
    catalog: smallEngine.catalog,
    skillId: SKILL_ID,
    streamUrlTemplate: 'https://cdn.example.com/{id}.mp3',
    verify: true,
    port: 0,
    log: (m) => logs.push(m),
    warn: (m) => warnings.push(m),
    onError: () => {},
    ...options,
  });
  servers.push(server);
  return { server, logs, warnings };
}

describe('what the endpoint records', () => {
  it('records each accepted request over HTTP and its answer; the log replays through the handler', async () => {
    const store = createMemoryStore();
    const manager = createSessionManager({ engine: smallEngine, store, onError: () => {} });
    openServices.push(manager);
    const server = await startVoiceEndpoint({
      service: manager,
      catalog: smallEngine.catalog,
      skillId: SKILL_ID,
      streamUrlTemplate: 'https://cdn.example.com/{id}.mp3',
      verify: false,
      port: 0,
      log: () => {},
      warn: () => {},
      trailer: createWireTrailer(store),
    });
    servers.push(server);
    const launched = await post(server.url, launchRequest());
    const token = (
      launched.json as { response: { directives: { audioItem: { stream: { token: string } } }[] } }
    ).response.directives[0].audioItem.stream.token;
    const sessionId = token.split(':')[0];
    expect((await post(server.url, intentRequest('AMAZON.HelpIntent'))).status).toBe(200);
    // Not an envelope: refused before any session, so not recorded.
    expect((await post(server.url, '{"version":"1.0"}')).status).toBe(400);
    expect((await post(server.url, intentRequest('AMAZON.StopIntent'))).status).toBe(200);
    const deadline = Date.now() + 5000;
    let events = (await store.readEvents(sessionId)).map((e) => e.event);
    while (!events.some((e) => e.type === WIRE_TRAILER)) {
      if (Date.now() > deadline) throw new Error('no adapter.wire entry after "stop"');
      await new Promise((r) => setTimeout(r, 10));
      events = (await store.readEvents(sessionId)).map((e) => e.event);
    }
    const voice = await replayVoice(events, smallEngine);
    expect(voice.firstFrameDivergence).toBeNull();
    expect(voice.callMismatch).toBeNull();
    // launch, help, stop: the refused body is not among them.
    expect([voice.framesRecorded, voice.framesMatched]).toEqual([3, 3]);
    expect(JSON.stringify(events)).toContain('"streamUrlTemplate":"https://cdn.example.com/{id}.mp3"');
  });
});

describe('voice settings', () => {
  it('reads the voice environment, refusing values that cannot work', () => {
    expect(configFromEnv({})).toMatchObject({ voicePort: 8081, alexaVerify: true });
    expect(
      configFromEnv({
        OMAKASE_ALEXA_SKILL_ID: SKILL_ID,
        OMAKASE_STREAM_URL: 'https://cdn.example.com/{id}.mp3',
        OMAKASE_VOICE_PORT: '0',
        OMAKASE_ALEXA_VERIFY: 'off',
        OMAKASE_ALEXA_TRUST_ROOT: '/tmp/root.pem',
      }),
    ).toMatchObject({
      alexaSkillId: SKILL_ID,
      streamUrlTemplate: 'https://cdn.example.com/{id}.mp3',
      voicePort: 0,
      alexaVerify: false,
      alexaTrustRootPath: '/tmp/root.pem',
    });
    expect(() => configFromEnv({ OMAKASE_ALEXA_VERIFY: 'no' })).toThrow(/OMAKASE_ALEXA_VERIFY/);
    expect(() => configFromEnv({ OMAKASE_VOICE_PORT: 'x' })).toThrow(/OMAKASE_VOICE_PORT/);
  });

  it('`omakase serve --help` documents every voice setting', () => {
    const help = execFileSync(process.execPath, ['adapters/cli/omakase.js', 'serve', '--help'], {
      encoding: 'utf8',
    });
    for (const flag of [
      '--alexa-skill-id',
      'OMAKASE_ALEXA_SKILL_ID',
      '--stream-url',
      'OMAKASE_STREAM_URL',
      '--voice-port',
      'OMAKASE_VOICE_PORT',
      '--alexa-unverified',
      'OMAKASE_ALEXA_VERIFY=off',
      '--alexa-trust-root',
      'OMAKASE_ALEXA_TRUST_ROOT',
      'docs/voice.md',
    ]) {
      expect(help, flag).toContain(flag);
    }
  });

  it('without verification, says so loudly and serves unsigned requests', async () => {
    const { server, logs, warnings } = await start({ verify: false });
    expect(warnings.join('\n')).toMatch(/REQUEST VERIFICATION IS OFF/);
    expect(logs.join('\n')).toMatch(/NOT VERIFIED/);
    expect((await post(server.url, launchRequest())).status).toBe(200);
  });

  it('with verification, an unsigned request is refused', async () => {
    const { server, warnings } = await start();
    expect(warnings).toEqual([]);
    const answer = await post(server.url, launchRequest());
    expect(answer).toMatchObject({ status: 400, json: { error: { code: 'VOICE_SIGNATURE_MISSING' } } });
  });

  it('refuses settings that cannot work with VOICE_CONFIG_INVALID', async () => {
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => 'started',
        (err) => (isOmakaseError(err) ? err.code : String(err)),
      );
    expect(await refused(start({ streamUrlTemplate: undefined }))).toBe('VOICE_CONFIG_INVALID');
    expect(await refused(start({ streamUrlTemplate: 'http://cdn.example.com/{id}' }))).toBe(
      'VOICE_CONFIG_INVALID',
    );
    expect(await refused(start({ trustRootsPem: 'no certificate here' }))).toBe('VOICE_CONFIG_INVALID');
    expect(() => streamUrlTemplate('https://cdn.example.com/track.mp3')).toThrow(/\{id\}/);
    expect(streamUrlTemplate('https://cdn.example.com/{id}.mp3')('a b/c')).toBe(
      'https://cdn.example.com/a%20b%2Fc.mp3',
    );
  });

  it("plays an item's own streamUrl from the catalog, and the template for items without one", async () => {
    const rows: CatalogRow[] = Array.from({ length: 30 }, (_, i) =>
      parseCatalogRow(
        {
          id: `t${i}`,
          title: `Track ${i}`,
          artist: `Artist ${i % 10}`,
          tags: ['rock'],
          durationMs: 200_000,
          popularity: 30 - i,
          ...(i % 2 === 0 ? { streamUrl: `https://own.example.com/t${i}.m4a` } : {}),
        },
        i + 1,
      ),
    );
    const engine = createEngine({ catalog: new Catalog(rows), scorer: createFallbackScorer() });
    const withTemplate = await start({ service: service(engine), catalog: engine.catalog, verify: false });
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(urlOf(await post(withTemplate.server.url, launchRequest())));
    const urls = [...seen];
    expect(urls.some((u) => u.startsWith('https://own.example.com/'))).toBe(true);
    expect(urls.some((u) => u.startsWith('https://cdn.example.com/'))).toBe(true);
    for (const u of urls) {
      const id = /\/(t\d+)\.(m4a|mp3)$/.exec(u)![1];
      expect(u.startsWith('https://own.example.com/')).toBe(Number(id.slice(1)) % 2 === 0);
    }
    // Every item has its own URL: no template needed.
    const own = new Catalog(rows.filter((_, i) => i % 2 === 0));
    const ownEngine = createEngine({ catalog: own, scorer: createFallbackScorer() });
    const alone = await start({
      service: service(ownEngine),
      catalog: own,
      verify: false,
      streamUrlTemplate: undefined,
    });
    expect(urlOf(await post(alone.server.url, launchRequest()))).toMatch(/^https:\/\/own\.example\.com\//);
    // A catalog row's streamUrl must be https.
    expect(() =>
      parseCatalogRow(
        { id: 'x', title: 'x', artist: 'x', durationMs: 1, streamUrl: 'http://insecure.example/x.mp3' },
        1,
      ),
    ).toThrow(expect.objectContaining({ code: 'ENGINE_CATALOG_INVALID_ROW' }));
  });
});

describe.skipIf(missing(hasOpenssl()))('a trusted test root (skipped without openssl)', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  }, 60_000);
  afterAll(() => pki?.cleanup());

  it('accepts requests signed under a test root only when that root is trusted', async () => {
    const now = Math.floor((pki.validFromMs + 3_600_000) / 1000) * 1000;
    const body = launchRequest({ timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    const headers = { signaturecertchainurl: CERT_URL, 'signature-256': signBody(body, pki.leafKeyPem) };
    const verifier = { fetchCert: async () => pki.chainPem, now: () => now };
    const trusted = await start({ trustRootsPem: pki.rootPem, verifier });
    expect(trusted.warnings.join('\n')).toMatch(/trusting 1 extra root/);
    expect((await post(trusted.server.url, body, headers)).status).toBe(200);
    const untrusted = await start({ verifier });
    expect(await post(untrusted.server.url, body, headers)).toMatchObject({
      status: 400,
      json: { error: { code: 'VOICE_CERT_INVALID' } },
    });
  });
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  postJson<Record<string, unknown>>(url, body, { headers });
