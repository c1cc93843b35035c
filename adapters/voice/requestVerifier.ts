import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { voiceError } from './errors.ts';

/** HTTP request headers as node:http gives them (names lower-cased), or any casing from elsewhere. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Resolves when the request provably comes from Alexa for this skill; rejects with a coded VOICE_* error. */
export type RequestVerifier = (rawBody: string, headers: RequestHeaders) => Promise<void>;

export interface RequestVerifierOptions {
  /** The skill id (`amzn1.ask.skill....`) requests must name as `applicationId`. */
  skillId: string;
  /** Fetches the PEM chain at an already checked URL (default: `fetchCertChain`, over the network). */
  fetchCert?: (url: string) => Promise<string>;
  /** PEM roots the chain must end in (default: Node's bundled Mozilla roots, `tls.rootCertificates`). */
  trustedRoots?: readonly string[];
  now?: () => number;
  /** Largest distance between `request.timestamp` and now (default and Alexa's rule: 150 000 ms). */
  toleranceMs?: number;
  /** Chains kept by URL (default 20); dates are re-checked on every request. */
  maxCachedChains?: number;
}

export const ALEXA_CERT_HOST = 's3.amazonaws.com';
export const ALEXA_CERT_PATH = '/echo.api/';
export const ALEXA_CERT_SAN = 'echo-api.amazon.com';
export const TIMESTAMP_TOLERANCE_MS = 150_000;

/** A header by name, whatever its casing; the first value of a repeated header. */
function header(headers: RequestHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const text = Array.isArray(value) ? value[0] : value;
    return typeof text === 'string' && text.trim().length > 0 ? text.trim() : undefined;
  }
  return undefined;
}

/**
 * Checks the `SignatureCertChainUrl` as Alexa's rules say: https, host s3.amazonaws.com, port 443 (or none),
 * path under /echo.api/ once `.`/`..` segments are resolved (the WHATWG URL parser does that, encoded dots
 * included). Returns the normalised URL; throws VOICE_CERT_URL_INVALID.
 */
export function checkCertUrl(raw: string): string {
  const reject = (why: string) =>
    voiceError('VOICE_CERT_URL_INVALID', `The certificate URL is refused: ${why}.`, {
      details: { url: raw },
    });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw reject('it is not a URL');
  }
  if (url.protocol !== 'https:') throw reject('it must be https');
  // URL lower-cases the host; the path stays case-sensitive, as Alexa requires.
  if (url.hostname !== ALEXA_CERT_HOST) throw reject(`the host must be ${ALEXA_CERT_HOST}`);
  if (url.port !== '' && url.port !== '443') throw reject('the port must be 443');
  if (url.username !== '' || url.password !== '') throw reject('it must not carry credentials');
  if (!url.pathname.startsWith(ALEXA_CERT_PATH)) throw reject(`the path must start with ${ALEXA_CERT_PATH}`);
  return url.href;
}

/** Splits a PEM bundle into certificates, leaf first (Alexa's chain file is ordered that way). */
function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function inDate(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

/** Each cert signed by the next, all in date, intermediates CAs, the last one a trusted root or signed by one. */
function checkChain(chain: X509Certificate[], roots: X509Certificate[], nowMs: number): void {
  const invalid = (why: string) =>
    voiceError('VOICE_CERT_INVALID', `The signing certificate is refused: ${why}.`, {
      details: { subject: chain[0]?.subject },
    });
  const leaf = chain[0];
  const sans = (leaf.subjectAltName ?? '').split(',').map((s) => s.trim());
  if (!sans.includes(`DNS:${ALEXA_CERT_SAN}`)) throw invalid(`its SAN does not name ${ALEXA_CERT_SAN}`);
  for (const [i, cert] of chain.entries()) {
    if (!inDate(cert, nowMs))
      throw invalid(`certificate ${i} is outside ${cert.validFrom} – ${cert.validTo}`);
    const issuer = chain[i + 1];
    if (!issuer) break;
    if (!issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
      throw invalid(`certificate ${i} is not signed by certificate ${i + 1}`);
  }
  const top = chain[chain.length - 1];
  const trusted = roots.some(
    (root) =>
      root.fingerprint256 === top.fingerprint256 ||
      (root.ca && inDate(root, nowMs) && top.checkIssued(root) && top.verify(root.publicKey)),
  );
  if (!trusted) throw invalid('the chain does not end in a trusted root');
}

/** Fetches a certificate chain over https with a time and size limit (the default `fetchCert`). */
export async function fetchCertChain(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const text = await response.text();
  if (text.length > 64 * 1024) throw new Error(`GET ${url} returned more than 64 KiB`);
  return text;
}

/**
 * Alexa's request verification: certificate URL rules, the chain (dates, SAN echo-api.amazon.com, trusted
 * root), RSA-SHA256 `Signature-256` over the raw body, the timestamp within 150 s, and the skill id.
 *
 * @example
 * const verify = createRequestVerifier({ skillId: 'amzn1.ask.skill.1234' });
 * await verify(rawBody, req.headers); // throws VOICE_SIGNATURE_INVALID, VOICE_TIMESTAMP_INVALID, ...
 */
export function createRequestVerifier(options: RequestVerifierOptions): RequestVerifier {
  const fetchCert = options.fetchCert ?? fetchCertChain;
  const now = options.now ?? Date.now;
  const toleranceMs = options.toleranceMs ?? TIMESTAMP_TOLERANCE_MS;
  const maxCached = options.maxCachedChains ?? 20;
  let roots: X509Certificate[] | undefined;
  const trustedRoots = () => {
    roots ??= (options.trustedRoots ?? rootCertificates).map((pem) => new X509Certificate(pem));
    return roots;
  };
  const cache = new Map<string, X509Certificate[]>();

  async function chainAt(url: string): Promise<X509Certificate[]> {
    const cached = cache.get(url);
    if (cached) return cached;
    let chain: X509Certificate[];
    try {
      chain = parseChain(await fetchCert(url));
    } catch (err) {
      throw voiceError('VOICE_CERT_UNAVAILABLE', `The signing certificate could not be read from ${url}.`, {
        cause: err,
      });
    }
    if (chain.length === 0)
      throw voiceError('VOICE_CERT_UNAVAILABLE', `The file at ${url} holds no PEM certificate.`);
    if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
    cache.set(url, chain);
    return chain;
  }

  return async (rawBody, headers) => {
    const certUrl = header(headers, 'SignatureCertChainUrl');
    const signature = header(headers, 'Signature-256');
    if (!certUrl || !signature) {
      throw voiceError(
        'VOICE_SIGNATURE_MISSING',
        'The request lacks the SignatureCertChainUrl or Signature-256 header; only Alexa may call this endpoint.',
      );
    }
    const url = checkCertUrl(certUrl);
    const chain = await chainAt(url);
    const nowMs = now();
    try {
      checkChain(chain, trustedRoots(), nowMs);
    } catch (err) {
      // A refused chain is not kept: the next request fetches it again.
      cache.delete(url);
      throw err;
    }
    const signatureBytes = Buffer.from(signature, 'base64');
    let valid = false;
    try {
      valid = verifySignature('sha256', Buffer.from(rawBody, 'utf8'), chain[0].publicKey, signatureBytes);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw voiceError(
        'VOICE_SIGNATURE_INVALID',
        'Signature-256 does not verify against the request body with the signing certificate.',
      );
    }
    checkEnvelope(rawBody, options.skillId, nowMs, toleranceMs);
  };
}

/** The signed body's timestamp and skill id. */
function checkEnvelope(rawBody: string, skillId: string, nowMs: number, toleranceMs: number): void {
  let body: {
    request?: { timestamp?: unknown };
    context?: { System?: { application?: { applicationId?: unknown } } };
    session?: { application?: { applicationId?: unknown } };
  };
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    throw voiceError('VOICE_MALFORMED_JSON', 'The signed request body is not JSON.', { cause: err });
  }
  const stamp =
    typeof body?.request?.timestamp === 'string' ? Date.parse(body.request.timestamp) : Number.NaN;
  if (!Number.isFinite(stamp) || Math.abs(nowMs - stamp) > toleranceMs) {
    throw voiceError(
      'VOICE_TIMESTAMP_INVALID',
      `request.timestamp is missing or more than ${toleranceMs / 1000} s from now; check the server clock.`,
      { details: { timestamp: body?.request?.timestamp } },
    );
  }
  const appId = body.context?.System?.application?.applicationId ?? body.session?.application?.applicationId;
  if (appId !== skillId) {
    throw voiceError('VOICE_WRONG_SKILL', 'The request is for another skill than this endpoint serves.', {
      details: { applicationId: appId },
    });
  }
}
