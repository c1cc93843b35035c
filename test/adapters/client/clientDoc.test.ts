import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERRORS } from '../../../adapters/client/clientError.ts';
import { WEB_ERRORS } from '../../../adapters/web/webApp.ts';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
/** Rows `| \`CODE\` | meaning | last column |` of the client library's and the page's tables. */
const rows = new Map(
  [...doc.matchAll(/^\| `((?:CLIENT|WEB)_[A-Z0-9_]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [
    m[1],
    m[2].trim(),
  ]),
);

describe('docs/protocol.md, the client library section', () => {
  it('documents every client error code with its retryable flag, and every page route code', () => {
    for (const [code, { retryable }] of Object.entries(CLIENT_ERRORS)) {
      expect(rows.get(code), `${code} in docs/protocol.md`).toBe(retryable ? 'yes' : 'no');
    }
    for (const code of Object.keys(WEB_ERRORS))
      expect(rows.has(code), `${code} in docs/protocol.md`).toBe(true);
  });

  it('names no client or page code that does not exist', () => {
    const known = new Set([...Object.keys(CLIENT_ERRORS), ...Object.keys(WEB_ERRORS)]);
    for (const [, code] of doc.matchAll(/`((?:CLIENT|WEB)_[A-Z0-9_]+)`/g)) {
      expect(known.has(code), `${code} is in the doc but in no table`).toBe(true);
    }
  });
});
