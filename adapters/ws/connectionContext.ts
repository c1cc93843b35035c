import type { SessionService } from '../../sessions/sessionService.ts';
import type { WireTrailer } from '../../sessions/wireTrailer.ts';
import type { Limits } from '../protocol.ts';
import type { Admission } from './admission.ts';
import type { WsConnection } from './wsConnection.ts';

/** What a connection is given: the server's shared context, its observer hooks, and who the peer is. */

/** What the server reports as it runs (metrics and logs hang off these); every hook is optional. */
export interface WsObserver {
  connectionClosed?(connection: WsConnection, code: number): void;
  sessionOpened?(connection: WsConnection, how: 'start' | 'resume'): void;
  itemsSent?(n: number): void;
  feedback?(kind: string): void;
  /** An `error` frame went out with this code. */
  errorSent?(code: string, connection: WsConnection): void;
  /** A connection was closed by the server for this reason (a limit, overload, auth, a slow reader). */
  refused?(code: number, reason: string, connection?: WsConnection): void;
}

/** What every connection of one server shares. */
export interface ConnectionContext {
  service: SessionService;
  limits: Limits;
  heartbeatMs: number;
  /** Above this many bytes waiting in the socket, the server stops fetching items until the socket flushes. */
  highWaterBytes: number;
  /** Items fetched from the service per call (at most the outstanding credit). */
  chunk: number;
  /** Send each item's `reasons` (QA and debugging clients). */
  reasons: boolean;
  /** Which local connection owns each session, so a takeover closes the older socket at once. */
  owners: Map<string, WsConnection>;
  /** Called once the socket has closed and the session was told. */
  onClosed(connection: WsConnection): void;
  admission: Admission;
  observer: WsObserver;
  /** Writes the frames sent after a session's last log entry (the `end` answer) once it has ended. */
  trailer?: WireTrailer;
}

/** Who is on the other end, as the upgrade established it. */
export interface Peer {
  /** The client address (the first X-Forwarded-For hop when the server trusts a proxy). */
  address: string;
  /** The authenticated principal, or `addr:<address>` when authentication is off. */
  principal: string;
}
