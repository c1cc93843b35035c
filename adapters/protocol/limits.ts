/** The protocol's version and the limits a server enforces and announces in `welcome` (docs/protocol.md). */

/** Bumped on any change a deployed client would notice. A client must send it in `hello`. */
export const PROTOCOL_VERSION = 1;

/** Limits the server enforces by default; the server announces its actual ones in `welcome`. */
export const DEFAULT_LIMITS = {
  /** Largest inbound frame in bytes; a bigger one closes the socket with 1009 (the `ws` library does it). */
  maxPayload: 4096,
  /** Largest `n` in one `more`. */
  maxMore: 50,
  /** Largest outstanding credit (items asked for, not yet sent). */
  maxCredit: 100,
  /** Requests a connection may have waiting or in flight; more are refused with PROTO_TOO_MANY_REQUESTS. */
  maxPending: 32,
  /** Time from connect to a successful `welcome`, in ms. */
  handshakeTimeoutMs: 5000,
} as const;

export interface Limits {
  maxPayload: number;
  maxMore: number;
  maxCredit: number;
  maxPending: number;
  handshakeTimeoutMs: number;
}

/** Default interval of the server's WS ping; also the interval a browser should send an app `ping` at. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
