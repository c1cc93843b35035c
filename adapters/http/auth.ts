import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  type KeyObject,
} from 'jose';
import type { AuthOutcome } from '../ws/wsServer.ts';

/** Authentication of the WebSocket upgrade and the protected HTTP endpoints; off when neither part is set. */
export interface AuthConfig {
  /** Named API keys: the principal of a request carrying `key` is `key:<name>`. */
  apiKeys?: readonly { name: string; key: string }[];
  /** JWTs verified with `jose`: the principal is `jwt:<sub>`. */
  jwt?: JwtConfig;
}

export interface JwtConfig {
  /** Required `iss`. */
  issuer?: string;
  /** Required `aud`. */
  audience?: string;
  /** Keys from a JWKS endpoint (fetched and cached by `jose`, refreshed on an unknown `kid`). */
  jwksUrl?: string;
  /** Or a local key: a PEM public key or certificate, a JWK, or a JWKS (JSON). */
  keyFile?: string;
  /** Accepted signature algorithms (default: RS256, ES256, EdDSA; never `none` or HMAC from a JWKS). */
  algorithms?: string[];
  /** Leeway for `exp` and `nbf`, in seconds (default 30). */
  clockToleranceS?: number;
}

export type Authenticate = (req: IncomingMessage) => Promise<AuthOutcome>;

/**
 * The credential on a request: `Authorization: Bearer <token>`, or `?access_token=<token>` on the URL
 * (browsers cannot set headers on a WebSocket; such URLs must not be logged, and omakase logs none).
 */
export function credentialOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('access_token');
  return query || undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

async function localKey(file: string): Promise<JWTVerifyGetKey | KeyObject> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the JWT key file ${file}: ${err.message}`);
  });
  if (text.includes('-----BEGIN')) return createPublicKey(text) as unknown as KeyObject;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the JWT key file ${file} is neither PEM nor JSON (a JWK or JWKS)`);
  }
  const keys = (json as { keys?: unknown }).keys;
  return createLocalJWKSet((Array.isArray(keys) ? json : { keys: [json] }) as never);
}

/**
 * Builds the check for `config`, or undefined when authentication is off.
 * @example const authenticate = await createAuthenticator({ apiKeys: [{ name: 'ops', key: 's3cret' }] });
 */
export async function createAuthenticator(config: AuthConfig): Promise<Authenticate | undefined> {
  const keys = (config.apiKeys ?? []).map(({ name, key }) => ({ name, hash: digest(key) }));
  const { jwt } = config;
  if (keys.length === 0 && jwt === undefined) return undefined;
  let verifyKey: JWTVerifyGetKey | KeyObject | undefined;
  if (jwt !== undefined) {
    if ((jwt.jwksUrl === undefined) === (jwt.keyFile === undefined))
      throw new Error('JWT authentication needs exactly one of a JWKS URL and a key file');
    verifyKey = jwt.jwksUrl
      ? createRemoteJWKSet(new URL(jwt.jwksUrl))
      : await localKey(jwt.keyFile as string);
  }
  const algorithms = jwt?.algorithms ?? ['RS256', 'ES256', 'EdDSA'];

  return async (req) => {
    const token = credentialOf(req);
    if (token === undefined)
      return { ok: false, status: 401, message: 'credentials required: Authorization: Bearer <key or JWT>' };
    // Every key is compared, in constant time, whichever matches.
    const presented = digest(token);
    let named: string | undefined;
    for (const { name, hash } of keys) if (timingSafeEqual(presented, hash)) named = name;
    if (named !== undefined) return { ok: true, principal: `key:${named}` };
    if (verifyKey === undefined || token.split('.').length !== 3)
      return { ok: false, status: 401, message: 'the API key is not valid' };
    try {
      const { payload } = await jwtVerify(token, verifyKey as never, {
        issuer: jwt?.issuer,
        audience: jwt?.audience,
        algorithms,
        clockTolerance: jwt?.clockToleranceS ?? 30,
        requiredClaims: ['sub', 'exp'],
      });
      return { ok: true, principal: `jwt:${payload.sub}` };
    } catch (err) {
      // Say which check failed, never echo the token or the key.
      const message =
        err instanceof joseErrors.JWTExpired
          ? 'the token has expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? `the token's ${err.claim} claim is not accepted`
            : 'the token is not valid (signature, algorithm or format)';
      return { ok: false, status: 401, message };
    }
  };
}
