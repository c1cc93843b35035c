import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, PROTO_ERRORS } from '../../../adapters/protocol.ts';
import { ENGINE_ERRORS } from '../../../engine/errors.ts';
import { SESSION_ERRORS } from '../../../sessions/errors.ts';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** Rows of the doc's error tables: `| \`CODE\` | yes/no | meaning |`. */
const errorRows = new Map(
  [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2] === 'yes'] as const),
);
/** Rows of the close-code table: `| 4409 | NAME | yes/no | meaning |`. */
const closeRows = new Map(
  [...doc.matchAll(/^\| (4\d{3}) \| ([A-Z_]+) \| (yes|no) \|/gm)].map((m) => [
    Number(m[1]),
    { name: m[2], retryable: m[3] === 'yes' },
  ]),
);

describe('docs/protocol.md', () => {
  it('documents every wire error code with its retryable flag', () => {
    const tables: Record<string, { retryable: boolean }> = { ...PROTO_ERRORS, ...SESSION_ERRORS };
    for (const [code, { retryable }] of Object.entries(tables)) {
      expect(errorRows.has(code), `${code} is missing from docs/protocol.md`).toBe(true);
      expect(errorRows.get(code), `${code}: retryable differs`).toBe(retryable);
    }
  });

  it('documents every close code with its name and retryable flag', () => {
    for (const [code, entry] of Object.entries(CLOSE_CODES)) {
      expect(closeRows.get(Number(code)), `close code ${code}`).toEqual({
        name: entry.name,
        retryable: entry.retryable,
      });
    }
  });

  it('names no code that does not exist', () => {
    const known = new Set([
      ...Object.keys(PROTO_ERRORS),
      ...Object.keys(SESSION_ERRORS),
      ...Object.keys(ENGINE_ERRORS),
    ]);
    for (const code of errorRows.keys())
      expect(known.has(code), `${code} is in the doc but in no table`).toBe(true);
    for (const [, code] of doc.matchAll(/`((?:PROTO|SESSION|ENGINE)_[A-Z0-9_]+)`/g)) {
      expect(known.has(code), `${code} is in the doc but in no table`).toBe(true);
    }
    for (const code of closeRows.keys())
      expect(code in CLOSE_CODES, `close code ${code} does not exist`).toBe(true);
    for (const [, code] of doc.matchAll(/close (?:with )?(4\d{3})/g)) {
      expect(Number(code) in CLOSE_CODES, `close ${code} does not exist`).toBe(true);
    }
  });
});
