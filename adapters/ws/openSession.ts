/** What a connection's `hello` opens: admission against the node's limits, start or resume, the welcome. */
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { SessionOpened } from '../../sessions/sessionService.ts';
import {
  type CloseCode,
  type ErrorMessage,
  type HelloMessage,
  PROTOCOL_VERSION,
  type ProtoErrorCode,
  type RequestId,
  type WelcomeMessage,
} from '../protocol.ts';
import type { ConnectionContext, Peer } from './connectionContext.ts';
import { toWireError } from './toWireError.ts';

/**
 * What became of a `hello`: the session it opened, a refusal for a limit (an error frame with a PROTO_* code,
 * then the close), or a refused resume (the session layer's error frame, then the close).
 */
export type HelloOutcome =
  | { opened: SessionOpened }
  | { refused: { code: 1001 | 1013; errorCode: ProtoErrorCode; reason: string } }
  | { rejected: { error: ErrorMessage; code: CloseCode; reason: string } };

/**
 * Admits a `hello` in this server's protocol version and opens (or resumes) its session: the node's overload
 * and drain state, the principal's open sessions and start rate are checked first. A start the session layer
 * refuses throws: the socket stays in its handshake, and the client may fix the request and say hello again.
 */
export async function openSession(
  msg: HelloMessage,
  ctx: ConnectionContext,
  peer: Peer,
  connectionId: string,
): Promise<HelloOutcome> {
  const { service, admission } = ctx;
  const { principal } = peer;
  const busy = admission.overloaded();
  if (busy !== undefined) {
    const code = admission.draining ? 1001 : 1013;
    return {
      refused: { code, errorCode: admission.draining ? 'PROTO_DRAINING' : 'PROTO_OVERLOADED', reason: busy },
    };
  }
  if (msg.resume) {
    if (!admission.sessionRoom(principal)) {
      return {
        refused: {
          code: 1013,
          errorCode: 'PROTO_OVERLOADED',
          reason: 'too many open sessions for this principal',
        },
      };
    }
    try {
      return { opened: await service.resume({ connectionId, principal, ...msg.resume }) };
    } catch (err) {
      const error = toWireError(err, msg.id);
      return isOmakaseError(err, 'SESSION_FORBIDDEN')
        ? { rejected: { error, code: 4403, reason: 'session belongs to another principal' } }
        : { rejected: { error, code: 4410, reason: 'resume refused' } };
    }
  }
  const refused = admission.admitStart(principal);
  if (refused !== undefined) {
    return { refused: { code: 1013, errorCode: refused.code, reason: refused.reason } };
  }
  return { opened: await service.start({ connectionId, principal, ...msg.start }) };
}

/** The `welcome` that answers hello `id` for the session it opened, with the limits this server enforces. */
export function welcomeFor(id: RequestId, opened: SessionOpened, ctx: ConnectionContext): WelcomeMessage {
  const { sessionId, resumeToken, status, lastSeq, graceMs } = opened;
  return {
    type: 'welcome',
    id,
    protocol: PROTOCOL_VERSION,
    sessionId,
    resumeToken,
    status,
    lastSeq,
    limits: ctx.limits,
    heartbeatMs: ctx.heartbeatMs,
    graceMs,
  };
}
