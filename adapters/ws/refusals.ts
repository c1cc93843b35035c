import type { Limits } from '../protocol.ts';
import type { ServerLimits } from './admission.ts';

/**
 * A refusal the connection decided from its surroundings, not from what it received: a rate limit or a
 * client that stopped reading (`close` set: the connection closed with it), a server draining or too many
 * requests waiting (no `close`: the request right before, `id`, was answered with `error` and not handled).
 * A replay cannot work these out from the frames, so it applies them where the log has them.
 */
export interface WireRefusal {
  close?: 4413 | 4429;
  error?: 'PROTO_RATE_LIMITED' | 'PROTO_DRAINING' | 'PROTO_TOO_MANY_REQUESTS';
  message: string;
  id?: string | number;
}

/** The client sent frames faster than its rate allows: closed with 4429. */
export function rateRefusal({ messagesPerSecond, messageBurst }: ServerLimits): WireRefusal {
  const message = `more than ${messagesPerSecond} frames a second (burst ${messageBurst}); slow down, then resume`;
  return { close: 4429, error: 'PROTO_RATE_LIMITED', message };
}

/** Request `id` arrived while the server drains or too many wait: answered with an error, not handled. */
export function queueRefusal(
  draining: boolean,
  waiting: number,
  { maxPending }: Limits,
  id: string | number | undefined,
): WireRefusal | undefined {
  if (draining) return { error: 'PROTO_DRAINING', message: DRAINING, id };
  if (waiting < maxPending) return undefined;
  return {
    error: 'PROTO_TOO_MANY_REQUESTS',
    message: `more than ${maxPending} requests waiting; wait for answers`,
    id,
  };
}

/** The client stopped reading: closed with 4413. */
export function overflowRefusal({ maxBufferedBytes }: ServerLimits): WireRefusal {
  return { close: 4413, message: `more than ${maxBufferedBytes} bytes waiting for this client to read` };
}

const DRAINING = 'the server is draining: this request was not handled; resume elsewhere and send it again';
