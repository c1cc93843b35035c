/** The requests of an open session (more, feedback, steer, pause, play, end), served for a connection. */
import type { ClientMessage, HelloMessage, RequestId, ServerMessage } from '../protocol.ts';
import type { ConnectionContext } from './connectionContext.ts';
import type { ItemPump } from './itemPump.ts';
import { protoError } from './protoError.ts';

/** What serving a request needs of the connection whose session it is for. */
export interface RequestHost {
  readonly connectionId: string;
  /** The open session's id. */
  sessionId(): string;
  isDraining(): boolean;
  send(msg: ServerMessage): void;
  /** Hands the traffic so far to the session, to be written with the log entry this request makes. */
  flushWire(): void;
  /** The session was ended by request `id`: the connection answers it and closes. */
  ended(id: RequestId): void;
}

/**
 * Serves one request of an open session: credit for the pump, or a call to the session service answered with
 * the durable `ack` and what the change withdrew. The request id is the idempotency key of each change: a
 * request sent again after a lost answer applies once. Returns the promise of the answer when it waits on the
 * session; throws (or rejects) with the error to send.
 */
export function serveRequest(
  msg: Exclude<ClientMessage, HelloMessage>,
  ctx: ConnectionContext,
  pump: ItemPump,
  host: RequestHost,
): Promise<void> | undefined {
  const { service, observer } = ctx;
  const sid = host.sessionId();
  const { connectionId } = host;
  /** The durable ack, then what the change withdrew; a change may also unblock a starved pump. */
  const answered = (id: RequestId, invalidated: number[], reason: string): void => {
    host.send({ type: 'ack', id });
    if (invalidated.length > 0) host.send({ type: 'invalidated', seqs: invalidated, reason, id });
    pump.changed();
  };
  switch (msg.type) {
    case 'more':
      if (host.isDraining()) throw protoError('PROTO_DRAINING', 'the server is draining; resume elsewhere');
      pump.grant(msg.id, msg.n);
      return;
    case 'feedback': {
      pump.checkSent(msg.seq);
      const feedback =
        msg.kind === 'skipped'
          ? { type: msg.kind, seq: msg.seq, atMs: msg.atMs as number }
          : { type: msg.kind, seq: msg.seq };
      host.flushWire();
      return service.feedback(sid, connectionId, feedback, { key: String(msg.id) }).then((changed) => {
        observer.feedback?.(msg.kind);
        answered(msg.id, changed.invalidated, 'feedback');
      });
    }
    case 'steer':
      host.flushWire();
      return service
        .steer(sid, connectionId, msg.steer, { key: String(msg.id) })
        .then((changed) => answered(msg.id, changed.invalidated, 'steer'));
    case 'pause':
    case 'play': {
      const key = { key: String(msg.id) };
      host.flushWire();
      return (
        msg.type === 'pause' ? service.pause(sid, connectionId, key) : service.play(sid, connectionId, key)
      ).then(() => answered(msg.id, [], msg.type));
    }
    case 'end':
      host.flushWire();
      return service.end(sid, connectionId).then(() => host.ended(msg.id));
  }
}
