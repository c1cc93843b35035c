/**
 * The AudioPlayer stream token: `${sessionId}:${seq}:${encodeURIComponent(itemId)}`. Alexa hands it back on
 * every AudioPlayer request, which carry no session; it is the way back to the omakase session, the
 * delivered item (its seq, for feedback) and the item to replay (its id, for the stream URL) even on a node
 * that never saw it. A token that would exceed Alexa's 1024 characters drops the item id.
 */
export interface StreamRef {
  sessionId: string;
  seq: number;
  /** Absent when the token had no room for it. */
  itemId?: string;
}

export const MAX_TOKEN_LENGTH = 1024;

/** Builds the token for `ref`; never longer than MAX_TOKEN_LENGTH for a session id under 1000 characters. */
export function formatStreamToken(ref: StreamRef): string {
  const base = `${ref.sessionId}:${ref.seq}`;
  if (ref.itemId === undefined) return base;
  const full = `${base}:${encodeURIComponent(ref.itemId)}`;
  return full.length <= MAX_TOKEN_LENGTH ? full : base;
}

/** Reads a token made by `formatStreamToken`; undefined for anything else (a foreign or corrupt token). */
export function parseStreamToken(token: string): StreamRef | undefined {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split(':');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [sessionId, seqText, itemText] = parts;
  if (sessionId.length === 0 || !/^[1-9]\d{0,14}$/.test(seqText)) return undefined;
  const ref: StreamRef = { sessionId, seq: Number(seqText) };
  if (itemText !== undefined) {
    try {
      ref.itemId = decodeURIComponent(itemText);
    } catch {
      return undefined;
    }
    if (ref.itemId.length === 0) return undefined;
  }
  return ref;
}
