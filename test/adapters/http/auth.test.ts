import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../adapters/http/auth.ts';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { FakeSessionService } from '../ws/fakeSessionService.ts';
import { TestClient } from '../ws/testClient.ts';

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'omakase';
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let other: Awaited<ReturnType<typeof generateKeyPair>>;
let jwks: Server;
let jwksUrl: string;
let keyFile: string;

const req = (headers: Record<string, string>, url = '/ws'): IncomingMessage =>
  ({ headers, url }) as unknown as IncomingMessage;

async function token(
  claims: { sub?: string; iss?: string; aud?: string; exp?: number | string } = {},
  key = keys.privateKey,
  kid = 'k1',
): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt();
  if (claims.sub !== null) jwt.setSubject(claims.sub ?? 'listener-1');
  jwt.setIssuer(claims.iss ?? ISSUER).setAudience(claims.aud ?? AUDIENCE);
  jwt.setExpirationTime(claims.exp ?? '5m');
  return jwt.sign(key);
}

beforeAll(async () => {
  keys = await generateKeyPair('ES256');
  other = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = createServer((_q, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  keyFile = join(mkdtempSync(join(tmpdir(), 'omakase-auth-')), 'key.pem');
  writeFileSync(keyFile, await exportSPKI(keys.publicKey));
});

afterAll(() => {
  jwks.close();
});

describe('createAuthenticator', () => {
  it('is off with nothing configured', async () => {
    expect(await createAuthenticator({})).toBeUndefined();
  });

  it('accepts a named API key from the header or the access_token parameter, and nothing else', async () => {
    const auth = (await createAuthenticator({ apiKeys: [{ name: 'ops', key: 'k-0123456789' }] }))!;
    expect(await auth(req({ authorization: 'Bearer k-0123456789' }))).toEqual({
      ok: true,
      principal: 'key:ops',
    });
    expect(await auth(req({}, '/ws?access_token=k-0123456789'))).toEqual({ ok: true, principal: 'key:ops' });
    for (const bad of [
      req({}),
      req({ authorization: 'Bearer k-012345678' }),
      req({ authorization: 'Basic k-0123456789' }),
    ]) {
      const outcome = await auth(bad);
      expect(outcome).toMatchObject({ ok: false, status: 401 });
      expect(JSON.stringify(outcome)).not.toContain('k-0123456789');
    }
  });

  for (const source of ['a JWKS URL', 'a PEM key file'] as const) {
    it(`verifies JWTs against ${source}: issuer, audience, expiry, signature`, async () => {
      const auth = (await createAuthenticator({
        jwt: {
          issuer: ISSUER,
          audience: AUDIENCE,
          ...(source === 'a JWKS URL' ? { jwksUrl } : { keyFile }),
        },
      }))!;
      const bearer = async (t: Promise<string>) => auth(req({ authorization: `Bearer ${await t}` }));
      expect(await bearer(token())).toEqual({ ok: true, principal: 'jwt:listener-1' });
      expect(await bearer(token({ exp: Math.floor(Date.now() / 1000) - 120 }))).toEqual({
        ok: false,
        status: 401,
        message: 'the token has expired',
      });
      expect(await bearer(token({ iss: 'https://evil.test/' }))).toMatchObject({
        ok: false,
        message: "the token's iss claim is not accepted",
      });
      expect(await bearer(token({ aud: 'someone-else' }))).toMatchObject({
        ok: false,
        message: "the token's aud claim is not accepted",
      });
      expect(await bearer(token({}, other.privateKey))).toMatchObject({ ok: false, status: 401 });
      // alg "none" is never accepted.
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ sub: 'x', iss: ISSUER, aud: AUDIENCE, exp: 9e9 }),
      ).toString('base64url')}.`;
      expect(await auth(req({ authorization: `Bearer ${unsigned}` }))).toMatchObject({
        ok: false,
        status: 401,
      });
    });
  }
});

describe('auth and Origin on the WebSocket upgrade', () => {
  let server: WsServer;
  let url: string;
  const service = new FakeSessionService();

  beforeAll(async () => {
    const authenticate = await createAuthenticator({
      apiKeys: [{ name: 'ops', key: 'k-0123456789' }],
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl },
    });
    server = await createWsServer({
      service,
      port: 0,
      authenticate,
      allowedOrigins: ['https://app.example.test'],
    });
    url = `ws://127.0.0.1:${server.address().port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('closes 4401 with PROTO_UNAUTHENTICATED without credentials, and admits a key or a JWT', async () => {
    const anonymous = await TestClient.connect(url);
    expect(await anonymous.next('error')).toMatchObject({ code: 'PROTO_UNAUTHENTICATED', retryable: false });
    expect((await anonymous.closed).code).toBe(4401);

    const expired = await TestClient.connect(`${url}/?access_token=${await token({ exp: 1 })}`);
    expect(await expired.next('error')).toMatchObject({
      code: 'PROTO_UNAUTHENTICATED',
      message: 'the token has expired',
    });
    expect((await expired.closed).code).toBe(4401);

    const withKey = await TestClient.connect(url, { headers: { authorization: 'Bearer k-0123456789' } });
    withKey.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    const welcome = await withKey.next('welcome');
    expect(service.sessions.get(welcome.sessionId)?.principal).toBe('key:ops');
    withKey.close();

    const withJwt = await TestClient.connect(`${url}/?access_token=${await token({ sub: 'listener-9' })}`);
    withJwt.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    const second = await withJwt.next('welcome');
    expect(service.sessions.get(second.sessionId)?.principal).toBe('jwt:listener-9');

    // Another principal, with the right id and token, may not take the session.
    const thief = await TestClient.connect(`${url}/?access_token=${await token({ sub: 'listener-1' })}`);
    thief.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId: second.sessionId, resumeToken: second.resumeToken, lastSeq: 0 },
    });
    expect(await thief.next('error')).toMatchObject({ code: 'SESSION_FORBIDDEN' });
    expect((await thief.closed).code).toBe(4403);
    withJwt.close();
  });

  it('closes 4403 with PROTO_FORBIDDEN for a page Origin not on the allow-list', async () => {
    const headers = { authorization: 'Bearer k-0123456789' };
    const foreign = await TestClient.connect(url, { headers, origin: 'https://evil.example.test' });
    expect(await foreign.next('error')).toMatchObject({ code: 'PROTO_FORBIDDEN' });
    expect((await foreign.closed).code).toBe(4403);
    const listed = await TestClient.connect(url, { headers, origin: 'https://app.example.test' });
    listed.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    await listed.next('welcome');
    listed.close();
    const sameHost = await TestClient.connect(url, {
      headers,
      origin: `http://127.0.0.1:${server.address().port}`,
    });
    sameHost.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    await sameHost.next('welcome');
    sameHost.close();
  });
});
