import { describe, expect, it } from 'vitest';
import { toWireError } from '../../../adapters/ws/toWireError.ts';
import { engineError } from '../../../engine/errors.ts';
import { OmakaseError } from '../../../models/omakaseError.ts';
import { sessionError } from '../../../sessions/errors.ts';

describe('toWireError', () => {
  it('passes session, engine and protocol codes through, retryable from their tables', () => {
    expect(toWireError(sessionError('SESSION_STORE_UNAVAILABLE', 'redis down; retry'), 'a')).toEqual({
      type: 'error',
      id: 'a',
      code: 'SESSION_STORE_UNAVAILABLE',
      message: 'redis down; retry',
      retryable: true,
    });
    expect(toWireError(sessionError('SESSION_BAD_RESUME_TOKEN', 'wrong token')).retryable).toBe(false);
    expect(toWireError(engineError('ENGINE_UNKNOWN_ITEM', 'no item x')).code).toBe('ENGINE_UNKNOWN_ITEM');
    expect(toWireError(new OmakaseError('PROTO_CREDIT_EXCEEDED', 'too much'))).toMatchObject({
      retryable: true,
    });
  });

  it('sends anything else as INTERNAL without its message', () => {
    for (const err of [
      new Error('ECONNREFUSED 10.0.0.3:6379'),
      new OmakaseError('MODEL_RUN_FAILED', 'onnx said /opt/models/x.onnx'),
      'a string',
      undefined,
    ]) {
      const wire = toWireError(err, 1);
      expect(wire).toMatchObject({ type: 'error', id: 1, code: 'INTERNAL', retryable: true });
      expect(wire.message).not.toMatch(/ECONNREFUSED|onnx|string/);
    }
  });
});
