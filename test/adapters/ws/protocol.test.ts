import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  closeCode,
  isParseError,
  PROTO_ERRORS,
  parseClientMessage,
} from '../../../adapters/protocol.ts';

const code = (text: string): string | undefined => {
  const result = parseClientMessage(text);
  return isParseError(result) ? result.error.code : undefined;
};

describe('parseClientMessage', () => {
  it('accepts every message type in its documented shape', () => {
    const good = [
      { type: 'hello', id: 'h', protocol: 1 },
      { type: 'hello', id: 0, protocol: 1, start: { intent: { tag: 'jazz' }, profile: 'radio', seed: 7 } },
      { type: 'hello', id: 'h', protocol: 1, resume: { sessionId: 's', resumeToken: 't', lastSeq: 3 } },
      { type: 'more', id: 'm', n: 50 },
      { type: 'feedback', id: 'f', seq: 1, kind: 'skipped', atMs: 1200 },
      { type: 'feedback', id: 'f', seq: 1, kind: 'liked' },
      { type: 'steer', id: 's', steer: { kind: 'less-artist', artist: 'ABBA' } },
      { type: 'steer', id: 's', steer: { kind: 'clear' } },
      { type: 'pause', id: 'p' },
      { type: 'play', id: 'p' },
      { type: 'end', id: 'e' },
      { type: 'ping', id: 'p' },
    ];
    for (const msg of good)
      expect(parseClientMessage(JSON.stringify(msg))).toEqual(
        msg.type === 'hello' && !('start' in msg) && !('resume' in msg) ? { ...msg, start: {} } : msg,
      );
  });

  it('gives each kind of bad frame its code, with the id when it was readable', () => {
    expect(code('{not json')).toBe('PROTO_MALFORMED_JSON');
    expect(code('[1,2]')).toBe('PROTO_INVALID_MESSAGE');
    expect(code('{"id":"x"}')).toBe('PROTO_INVALID_MESSAGE');
    expect(code('{"type":"dance","id":"x"}')).toBe('PROTO_UNKNOWN_TYPE');
    expect(code('{"type":"dance"}')).toBe('PROTO_UNKNOWN_TYPE');
    expect(code('{"type":"more","n":1}')).toBe('PROTO_MISSING_ID');
    expect(code('{"type":"more","id":"","n":1}')).toBe('PROTO_MISSING_ID');
    expect(code('{"type":"more","id":-1,"n":1}')).toBe('PROTO_MISSING_ID');
    expect(code('{"type":"more","id":"m","n":"3"}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"more","id":"m","n":0}')).toBe('PROTO_MORE_OUT_OF_RANGE');
    expect(code('{"type":"more","id":"m","n":51}')).toBe('PROTO_MORE_OUT_OF_RANGE');
    expect(code('{"type":"more","id":"m","n":1.5}')).toBe('PROTO_MORE_OUT_OF_RANGE');
    expect(code('{"type":"more","id":"m","n":1,"extra":true}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"feedback","id":"f","seq":1,"kind":"skipped"}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"feedback","id":"f","seq":1,"kind":"liked","atMs":3}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"feedback","id":"f","seq":0,"kind":"liked"}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"feedback","id":"f","seq":1,"kind":"loved"}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"steer","id":"s","steer":{"kind":"tag"}}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"steer","id":"s","steer":{"kind":"tag","tag":"x","artist":"y"}}')).toBe(
      'PROTO_INVALID_FIELD',
    );
    expect(code('{"type":"hello","id":"h"}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"hello","id":"h","protocol":1,"start":{},"resume":{}}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"hello","id":"h","protocol":1,"start":{"seed":-1}}')).toBe('PROTO_INVALID_FIELD');
    expect(code('{"type":"hello","id":"h","protocol":1,"resume":{"sessionId":"s","resumeToken":"t"}}')).toBe(
      'PROTO_INVALID_FIELD',
    );
    const withId = parseClientMessage('{"type":"more","id":"m7","n":0}');
    expect(isParseError(withId) && withId.error.id).toBe('m7');
  });

  it('honours a server-specific maxMore', () => {
    expect(isParseError(parseClientMessage('{"type":"more","id":"m","n":8}', { maxMore: 8 }))).toBe(false);
    expect(isParseError(parseClientMessage('{"type":"more","id":"m","n":9}', { maxMore: 8 }))).toBe(true);
  });
});

describe('adapters/protocol.ts', () => {
  const read = (path: string) => readFileSync(new URL(`../../../adapters/${path}`, import.meta.url), 'utf8');
  /** Every module a source names (imports, re-exports); a dynamic import or require fails outright. */
  const importsOf = (source: string) => {
    expect(source).not.toMatch(/\bimport\s*\(|\brequire\s*\(/);
    return [
      ...source.matchAll(
        /^\s*(?:import\s+['"]([^'"]+)['"]|(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"])/gm,
      ),
    ].map((m) => m[1] ?? m[2]);
  };

  it('imports nothing from outside its own modules (the browser client bundles it as is)', () => {
    const modules = readdirSync(new URL('../../../adapters/protocol/', import.meta.url)).filter((f) =>
      f.endsWith('.ts'),
    );
    expect(modules.length).toBeGreaterThan(0);
    expect(importsOf(read('protocol.ts')).sort()).toEqual(modules.map((f) => `./protocol/${f}`).sort());
    for (const f of modules)
      expect(importsOf(read(`protocol/${f}`)).filter((i) => !/^\.\/\w+\.ts$/.test(i))).toEqual([]);
  });
});

describe('code tables', () => {
  it('keeps close codes in the application range and names unique', () => {
    const names = Object.values(CLOSE_CODES).map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const key of Object.keys(CLOSE_CODES)) expect(Number(key) >= 4000 && Number(key) <= 4999).toBe(true);
    expect(closeCode('SESSION_TAKEN_OVER')).toBe(4409);
  });

  it('prefixes every protocol error code (INTERNAL is the one exception)', () => {
    for (const key of Object.keys(PROTO_ERRORS))
      expect(key === 'INTERNAL' || key.startsWith('PROTO_')).toBe(true);
  });
});
