import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PKI made with the openssl CLI, shaped like Alexa's: a root (trusted by the test verifier), an
 * intermediate, and leaf certificates with the SAN echo-api.amazon.com; plus the wrong things to refuse
 * (another SAN, a rogue root). Bodies are signed with RSA-SHA256 like Alexa's `Signature-256`.
 */
export interface TestPki {
  rootPem: string;
  /** Leaf (SAN echo-api.amazon.com) then intermediate: what Alexa's cert URL serves. */
  chainPem: string;
  /** Leaf with SAN example.com, same intermediate. */
  wrongSanChainPem: string;
  /** Leaf with the right SAN, signed by a root the verifier does not trust. */
  rogueChainPem: string;
  /** The rogue-signed leaf followed by the real intermediate: a link that does not verify. */
  brokenChainPem: string;
  /** The leaf alone (no intermediate): does not reach the root. */
  leafOnlyPem: string;
  leafKeyPem: string;
  /** The leaf's validity window, ms since epoch. */
  validFromMs: number;
  validToMs: number;
  cleanup(): void;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'omakase-voice-pki-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  writeFileSync(
    join(dir, 'ca.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
  );
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:echo-api.amazon.com\nkeyUsage=digitalSignature\n');
  writeFileSync(join(dir, 'other.ext'), 'subjectAltName=DNS:example.com\n');

  const root = (name: string) =>
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '3',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const csr = (name: string, cn: string) =>
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
  const issue = (csrName: string, out: string, ca: string, ext: string, days: string) =>
    run(
      'x509',
      '-req',
      '-in',
      `${csrName}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${out}.pem`,
      '-days',
      days,
      '-extfile',
      ext,
      '-sha256',
    );

  root('root');
  root('rogue');
  csr('int', 'Test Intermediate');
  issue('int', 'int', 'root', 'ca.ext', '3');
  csr('leaf', 'echo-api.amazon.com');
  issue('leaf', 'leaf', 'int', 'leaf.ext', '1');
  issue('leaf', 'other', 'int', 'other.ext', '1');
  issue('leaf', 'rogueLeaf', 'rogue', 'leaf.ext', '1');

  const dates = run('x509', '-in', 'leaf.pem', '-noout', '-startdate', '-enddate').toString();
  const date = (field: string) => Date.parse(new RegExp(`${field}=(.+)`).exec(dates)![1]);
  return {
    rootPem: read('root.pem'),
    chainPem: read('leaf.pem') + read('int.pem'),
    wrongSanChainPem: read('other.pem') + read('int.pem'),
    rogueChainPem: read('rogueLeaf.pem') + read('rogue.pem'),
    brokenChainPem: read('rogueLeaf.pem') + read('int.pem'),
    leafOnlyPem: read('leaf.pem'),
    leafKeyPem: read('leaf.key'),
    validFromMs: date('notBefore'),
    validToMs: date('notAfter'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Alexa's `Signature-256`: base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body bytes. */
export const signBody = (body: string, keyPem: string) =>
  sign('sha256', Buffer.from(body, 'utf8'), keyPem).toString('base64');

export const CERT_URL = 'https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem';
