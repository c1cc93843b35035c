import { afterEach, describe, expect, it } from 'vitest';
import { type AlexaHandler, createAlexaHandler, UNVERIFIED } from '../../../adapters/voice/alexaHandler.ts';
import { createVoiceServer, type VoiceServer } from '../../../adapters/voice/voiceServer.ts';
import { audioEvent, launchRequest, SKILL_ID } from './alexaRequests.ts';
import { harness, openServices, postJson, refOf } from './voiceHarness.ts';

const servers: VoiceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

async function serve(handler: AlexaHandler, maxBodyBytes?: number) {
  const server = await createVoiceServer({ handler, port: 0, maxBodyBytes });
  servers.push(server);
  return server;
}

/** A raw http request (fetch would hide what a body limit does to the socket). */
const post = (url: string, body: string, method = 'POST', headers: Record<string, string> = {}) =>
  postJson(url, body, { method, headers });

describe('createVoiceServer', () => {
  it('serves the handler on POST /alexa with the raw body and the headers', async () => {
    const seen: { body: string; signature: unknown }[] = [];
    const server = await serve(async (body, headers) => {
      seen.push({ body, signature: headers?.['signature-256'] });
      return { status: 200, body: { version: '1.0', response: {} } };
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/alexa$/);
    // Byte-exact: the signature covers the body as sent, whitespace and all.
    const body = ' {"a": "é"}\n';
    const answer = await post(server.url, body, 'POST', { 'Signature-256': 'c2ln' });
    expect(answer).toMatchObject({ status: 200, json: { version: '1.0', response: {} } });
    expect(seen).toEqual([{ body, signature: 'c2ln' }]);
  });

  it('streams music end to end over HTTP with the real handler', async () => {
    const h = harness();
    const handler = createAlexaHandler({
      service: h.service,
      catalog: h.engine.catalog,
      verify: UNVERIFIED,
      warn: () => {},
      skillId: SKILL_ID,
      streamUrl: (id) => `https://media.example.com/${id}.mp3`,
    });
    const server = await serve(handler);
    const launch = (await post(server.url, launchRequest())) as {
      json: { response: { directives: { audioItem: { stream: { token: string } } }[] } };
    };
    const t1 = launch.json.response.directives[0].audioItem.stream.token;
    const nearly = await post(server.url, audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000));
    expect(nearly.status).toBe(200);
    expect(nearly.json).toMatchObject({
      response: {
        directives: [{ playBehavior: 'ENQUEUE', audioItem: { stream: { expectedPreviousToken: t1 } } }],
      },
    });
    const bad = await post(server.url, '{"nope":');
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'VOICE_MALFORMED_JSON' } } });
    expect(refOf(t1).seq).toBe(1);
  });

  it('answers other paths with 404, other methods with 405, and big bodies with 413', async () => {
    let calls = 0;
    const server = await serve(async () => {
      calls++;
      return { status: 200, body: { version: '1.0', response: {} } };
    }, 1024);
    const base = server.url.replace(/\/alexa$/, '');
    expect(await post(`${base}/other`, '{}')).toMatchObject({
      status: 404,
      json: { error: { code: 'VOICE_NOT_FOUND' } },
    });
    const get = await post(server.url, '', 'GET');
    expect(get).toMatchObject({ status: 405, json: { error: { code: 'VOICE_METHOD_NOT_ALLOWED' } } });
    expect(get.headers.allow).toBe('POST');
    const big = await post(server.url, 'x'.repeat(2048));
    expect(big).toMatchObject({ status: 413, json: { error: { code: 'VOICE_BODY_TOO_LARGE' } } });
    // Without a content-length (chunked), the limit holds while reading.
    const chunked = await post(server.url, 'x'.repeat(4096), 'POST', { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
    expect(calls).toBe(0);
  });

  it('never leaks a handler failure', async () => {
    const server = await serve(async () => {
      throw new Error('secret internals at /srv/app.ts:42');
    });
    const answer = await post(server.url, '{}');
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.json)).not.toMatch(/secret|srv/);
    expect(answer.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error; retry later' } });
  });
});
