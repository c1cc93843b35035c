/**
 * The shapes of the protocol's messages: what a client sends (`ClientMessage`) and what a server answers
 * (`ServerMessage`), with the wire forms of items, intents and steering.
 */
import type { Limits } from './limits.ts';

export type RequestId = string | number;

export const FEEDBACK_TYPES = ['started', 'completed', 'skipped', 'liked', 'disliked'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

export const WIRE_PROFILES = ['default', 'radio'] as const;

/** Same shapes as the engine's Intent and Steer, restated so that this module imports nothing. */
export interface WireIntent {
  tag?: string;
  artist?: string;
  itemId?: string;
  text?: string;
}

export type WireSteer =
  | { kind: 'more-like'; itemId: string }
  | { kind: 'less-artist'; artist: string }
  | { kind: 'artist'; artist: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'mood'; tag: string }
  | { kind: 'clear' };

// ---- client → server ----

export interface HelloMessage {
  type: 'hello';
  id: RequestId;
  protocol: number;
  start?: { intent?: WireIntent; profile?: (typeof WIRE_PROFILES)[number]; seed?: number };
  resume?: { sessionId: string; resumeToken: string; lastSeq: number };
}
export interface MoreMessage {
  type: 'more';
  id: RequestId;
  n: number;
}
export interface FeedbackMessage {
  type: 'feedback';
  id: RequestId;
  seq: number;
  /** What happened (`type` names the message, so the feedback's own type is `kind`). */
  kind: FeedbackType;
  /** Required for `skipped` (how far into the item, ms); not allowed otherwise. */
  atMs?: number;
}
export interface SteerMessage {
  type: 'steer';
  id: RequestId;
  steer: WireSteer;
}
export interface SimpleRequest {
  type: 'pause' | 'play' | 'end' | 'ping';
  id: RequestId;
}

export type ClientMessage = HelloMessage | MoreMessage | FeedbackMessage | SteerMessage | SimpleRequest;

// ---- server → client ----

/** An item as sent to clients: what a player needs, plus why it was picked when the server is asked to. */
export interface WireItem {
  id: string;
  title: string;
  artist: string;
  album?: string;
  durationMs: number;
  startMs: number;
  degraded: boolean;
  reasons?: Record<string, unknown>;
}

export interface WelcomeMessage {
  type: 'welcome';
  id: RequestId;
  protocol: number;
  sessionId: string;
  resumeToken: string;
  status: 'streaming' | 'paused';
  lastSeq: number;
  limits: Limits;
  heartbeatMs: number;
  graceMs: number;
}
export interface ItemMessage {
  type: 'item';
  seq: number;
  item: WireItem;
  /** The `more` whose credit this item used; absent on items re-sent after a resume. */
  re?: RequestId;
}
export interface AckMessage {
  type: 'ack';
  id: RequestId;
}
export interface InvalidatedMessage {
  type: 'invalidated';
  seqs: number[];
  reason: string;
  id?: RequestId;
}
export interface StarvedMessage {
  type: 'starved';
  /** Credit still outstanding; it is served when feedback, steering or a new `more` changes what is allowed. */
  credit: number;
  re?: RequestId;
}
export interface ErrorMessage {
  type: 'error';
  id?: RequestId;
  code: string;
  message: string;
  retryable: boolean;
}
export interface PongMessage {
  type: 'pong';
  id: RequestId;
}
export interface EndedMessage {
  type: 'ended';
  reason: string;
  id?: RequestId;
}

export type ServerMessage =
  | WelcomeMessage
  | ItemMessage
  | AckMessage
  | InvalidatedMessage
  | StarvedMessage
  | ErrorMessage
  | PongMessage
  | EndedMessage;
