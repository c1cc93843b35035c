import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlexaHandler } from '../../../adapters/voice/alexaHandler.ts';
import { checkCertUrl, createRequestVerifier } from '../../../adapters/voice/requestVerifier.ts';
import { missing } from '../../requirements.ts';
import { launchRequest, SKILL_ID } from './alexaRequests.ts';
import { CERT_URL, hasOpenssl, makeTestPki, signBody, type TestPki } from './testCerts.ts';
import { harness, openServices, playOf } from './voiceHarness.ts';

/** The code a promise rejects with, or 'resolved'. */
const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: { code?: string }) => err.code ?? String(err),
  );

describe('checkCertUrl', () => {
  it.each([
    [
      'https://s3.amazonaws.com/echo.api/echo-api-cert.pem',
      'https://s3.amazonaws.com/echo.api/echo-api-cert.pem',
    ],
    [
      'https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem',
      'https://s3.amazonaws.com/echo.api/echo-api-cert.pem',
    ],
    [
      'https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem',
      'https://s3.amazonaws.com/echo.api/echo-api-cert.pem',
    ],
    [
      'https://S3.AmazonAWS.com/echo.api/echo-api-cert.pem',
      'https://s3.amazonaws.com/echo.api/echo-api-cert.pem',
    ],
  ])('accepts %s (as %s)', (url, normalised) => {
    expect(checkCertUrl(url)).toBe(normalised);
  });

  it.each([
    'http://s3.amazonaws.com/echo.api/echo-api-cert.pem',
    'https://notamazon.com/echo.api/echo-api-cert.pem',
    'https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem',
    'https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem',
    'https://s3.amazonaws.com/invalid.path/echo-api-cert.pem',
    'https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem',
    'https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem',
    'https://s3.amazonaws.com/echo.api/%2e%2e/invalid.path/echo-api-cert.pem',
    'https://user@s3.amazonaws.com/echo.api/echo-api-cert.pem',
    'not a url',
  ])('refuses %s with VOICE_CERT_URL_INVALID', (url) => {
    expect(() => checkCertUrl(url)).toThrow(expect.objectContaining({ code: 'VOICE_CERT_URL_INVALID' }));
  });
});

describe.skipIf(missing(hasOpenssl()))(
  'createRequestVerifier (a test PKI made with openssl; skipped without openssl)',
  () => {
    let pki: TestPki;
    /** A time inside the leaf's validity, to the second (Alexa timestamps have no milliseconds). */
    let now: number;
    let fetched: string[];

    // Five RSA keys from the openssl CLI: quick alone, slower on a loaded CI runner.
    beforeAll(() => {
      pki = makeTestPki();
      now = Math.floor((pki.validFromMs + 3_600_000) / 1000) * 1000;
    }, 60_000);
    afterAll(() => {
      pki?.cleanup();
      return Promise.all(openServices.splice(0).map((s) => s.close()));
    });

    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    function verifier(chainPem = pki.chainPem, at = now) {
      fetched = [];
      return createRequestVerifier({
        skillId: SKILL_ID,
        trustedRoots: [pki.rootPem],
        now: () => at,
        fetchCert: async (url) => {
          fetched.push(url);
          return chainPem;
        },
      });
    }
    /** A launch request stamped `ageMs` before the verifier's clock, signed by the leaf, and its headers. */
    function signed(options: { ageMs?: number; skillId?: string; certUrl?: string; key?: string } = {}) {
      const body = launchRequest({ timestamp: iso(now - (options.ageMs ?? 0)), skillId: options.skillId });
      const headers = {
        signaturecertchainurl: options.certUrl ?? CERT_URL,
        'signature-256': signBody(body, options.key ?? pki.leafKeyPem),
      };
      return { body, headers };
    }

    it('accepts a request signed by the leaf, fetching the chain once per URL', async () => {
      const verify = verifier();
      const { body, headers } = signed();
      expect(await code(verify(body, headers))).toBe('resolved');
      // Header names in any casing (node lower-cases them; other servers may not).
      const other = signed({ ageMs: 1_000 });
      const cased = { SignatureCertChainUrl: CERT_URL, 'Signature-256': other.headers['signature-256'] };
      expect(await code(verify(other.body, cased))).toBe('resolved');
      expect(fetched).toEqual([CERT_URL]);
    });

    it('fetches the normalised URL', async () => {
      const verify = verifier();
      const { body, headers } = signed({
        certUrl: 'https://s3.amazonaws.com:443/echo.api/../echo.api/cert.pem',
      });
      expect(await code(verify(body, headers))).toBe('resolved');
      expect(fetched).toEqual(['https://s3.amazonaws.com/echo.api/cert.pem']);
    });

    it('refuses a bad signature: another body, another key, garbage', async () => {
      const verify = verifier();
      const { body, headers } = signed();
      const tampered = body.replace('LaunchRequest', 'IntentRequest');
      expect(await code(verify(tampered, headers))).toBe('VOICE_SIGNATURE_INVALID');
      const wrongKey = signed({ key: otherKey() });
      expect(await code(verify(wrongKey.body, wrongKey.headers))).toBe('VOICE_SIGNATURE_INVALID');
      expect(await code(verify(body, { ...headers, 'signature-256': 'bm90IGEgc2lnbmF0dXJl' }))).toBe(
        'VOICE_SIGNATURE_INVALID',
      );
    });

    it('refuses missing signature headers', async () => {
      const verify = verifier();
      const { body, headers } = signed();
      expect(await code(verify(body, { 'signature-256': headers['signature-256'] }))).toBe(
        'VOICE_SIGNATURE_MISSING',
      );
      expect(await code(verify(body, { signaturecertchainurl: CERT_URL, 'signature-256': ' ' }))).toBe(
        'VOICE_SIGNATURE_MISSING',
      );
    });

    it('refuses a stale (or future) timestamp: 150 s is the limit', async () => {
      const verify = verifier();
      const fresh = signed({ ageMs: 150_000 });
      expect(await code(verify(fresh.body, fresh.headers))).toBe('resolved');
      const stale = signed({ ageMs: 151_000 });
      expect(await code(verify(stale.body, stale.headers))).toBe('VOICE_TIMESTAMP_INVALID');
      const future = signed({ ageMs: -151_000 });
      expect(await code(verify(future.body, future.headers))).toBe('VOICE_TIMESTAMP_INVALID');
    });

    it('refuses a wrong cert host or path without fetching anything', async () => {
      const verify = verifier();
      for (const certUrl of [
        'https://evil.example/echo.api/echo-api-cert.pem',
        'https://s3.amazonaws.com/other.api/echo-api-cert.pem',
        'https://s3.amazonaws.com/echo.api/../x/echo-api-cert.pem',
      ]) {
        const { body, headers } = signed({ certUrl });
        expect(await code(verify(body, headers))).toBe('VOICE_CERT_URL_INVALID');
      }
      expect(fetched).toEqual([]);
    });

    it('refuses a request for another skill', async () => {
      const verify = verifier();
      const { body, headers } = signed({ skillId: 'amzn1.ask.skill.someone-else' });
      expect(await code(verify(body, headers))).toBe('VOICE_WRONG_SKILL');
    });

    it('refuses certificates with the wrong SAN, an untrusted root, a missing intermediate, or out of date', async () => {
      const { body, headers } = signed();
      expect(await code(verifier(pki.wrongSanChainPem)(body, headers))).toBe('VOICE_CERT_INVALID');
      expect(await code(verifier(pki.rogueChainPem)(body, headers))).toBe('VOICE_CERT_INVALID');
      expect(await code(verifier(pki.leafOnlyPem)(body, headers))).toBe('VOICE_CERT_INVALID');
      expect(await code(verifier(pki.brokenChainPem)(body, headers))).toBe('VOICE_CERT_INVALID');
      const late = pki.validToMs + 60_000;
      const expired = launchRequest({ timestamp: iso(late) });
      const expiredHeaders = {
        signaturecertchainurl: CERT_URL,
        'signature-256': signBody(expired, pki.leafKeyPem),
      };
      expect(await code(verifier(pki.chainPem, late)(expired, expiredHeaders))).toBe('VOICE_CERT_INVALID');
    });

    it('refuses when the chain cannot be fetched or holds no certificate', async () => {
      const { body, headers } = signed();
      expect(await code(verifier('not a pem')(body, headers))).toBe('VOICE_CERT_UNAVAILABLE');
      const failing = createRequestVerifier({
        skillId: SKILL_ID,
        trustedRoots: [pki.rootPem],
        now: () => now,
        fetchCert: () => Promise.reject(new Error('ENOTFOUND')),
      });
      expect(await code(failing(body, headers))).toBe('VOICE_CERT_UNAVAILABLE');
    });

    it('in the handler: a signed request plays, a tampered one gets a coded 400', async () => {
      const h = harness();
      const handler = createAlexaHandler({
        service: h.service,
        catalog: h.engine.catalog,
        skillId: SKILL_ID,
        streamUrl: (id) => `https://media.example.com/${id}.mp3`,
        verify: verifier(),
      });
      const { body, headers } = signed();
      const answer = await handler(body, headers);
      expect(answer.status).toBe(200);
      expect(playOf(answer).playBehavior).toBe('REPLACE_ALL');
      const refused = await handler(body.replace('en-US', 'en-GB'), headers);
      expect(refused).toEqual({
        status: 400,
        body: { error: { code: 'VOICE_SIGNATURE_INVALID', message: expect.any(String) } },
      });
      expect((await handler(body, {})).body).toMatchObject({ error: { code: 'VOICE_SIGNATURE_MISSING' } });
    });
  },
);

/** Another RSA key of the same size, so only the key differs. */
const otherKey = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
