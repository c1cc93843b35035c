import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticate } from './auth.ts';

/**
 * Checks a protected HTTP endpoint's credential; on failure answers 401 (with `WWW-Authenticate: Bearer`) or
 * 403 with the protocol's codes and resolves false. Resolves true when allowed (or authentication is off).
 *
 * @example
 * if (!(await requireAuth(authenticate, req, res))) return;
 */
export async function requireAuth(
  authenticate: Authenticate | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (!authenticate) return true;
  const outcome = await authenticate(req);
  if (outcome.ok) return true;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (outcome.status === 401) headers['www-authenticate'] = 'Bearer';
  const code = outcome.status === 401 ? 'PROTO_UNAUTHENTICATED' : 'PROTO_FORBIDDEN';
  res.writeHead(outcome.status, headers).end(`${JSON.stringify({ code, message: outcome.message })}\n`);
  return false;
}
