/** Where a tab keeps its session, so that a reload resumes it (sessionStorage: one session per tab). */

const SAVED = 'omakase.session';

export interface SavedSession {
  sessionId: string;
  resumeToken: string;
  lastSeq: number;
  intent: string;
}

/** The tab's saved session, if it has a readable one. */
export function savedSession(): SavedSession | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(SAVED) ?? 'null') as SavedSession | null;
    return value && typeof value.sessionId === 'string' && typeof value.resumeToken === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(value: SavedSession): void {
  sessionStorage.setItem(SAVED, JSON.stringify(value));
}

export function forgetSession(): void {
  sessionStorage.removeItem(SAVED);
}
