import { createHash, timingSafeEqual } from 'node:crypto';

/** sha256 (hex) of a resume token: what the session keeps instead of the token. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Whether `token` is the one `hash` was made from, compared in constant time. */
export function tokenMatches(token: string, hash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
