/**
 * What the feed page tells the reader about itself: the connection's state in the status line (with the
 * reconnect countdown), the last error, and a short notice of what just happened.
 */
import type { OmakaseClientError } from '../client/clientError.ts';
import type { ConnectionState } from '../client/omakaseClient.ts';
import { alertBox, notice, retry, sentinel, status } from './pageElements.ts';

/**
 * Marks a request's promise as reported: one answered with an error is reported by the client's `error` event
 * (showError), and the promise's rejection carries the same error, so it needs no second report.
 */
export const reported = (p: Promise<unknown>): void => {
  p.catch(() => undefined);
};

let countdown: ReturnType<typeof setInterval> | undefined;

/** Shows the connection's state; `onOpen` runs when it is open (the page asks for items if it needs them). */
export function showState(s: ConnectionState, onOpen: () => void): void {
  clearInterval(countdown);
  status.dataset.state = s.state;
  retry.hidden = s.state !== 'reconnecting';
  switch (s.state) {
    case 'idle':
      status.textContent = 'Not connected';
      break;
    case 'connecting':
      status.textContent = s.resuming ? 'Resuming…' : 'Connecting…';
      break;
    case 'open':
      status.textContent = s.resumed ? 'Resumed' : 'Connected';
      onOpen();
      break;
    case 'reconnecting': {
      const tick = () => {
        const secs = Math.max(0, Math.ceil((s.at - Date.now()) / 1000));
        status.textContent = `Connection lost; reconnecting in ${secs} s`;
      };
      tick();
      countdown = setInterval(tick, 1000);
      break;
    }
    case 'ended':
      status.textContent = `Ended (${s.code ?? s.reason})`;
      sentinel.textContent = 'This session has ended. Press Start for a new one.';
      break;
  }
}

export function showError(err: OmakaseClientError | { code: string; message: string }): void {
  const code = document.createElement('code');
  code.textContent = err.code;
  alertBox.replaceChildren(code, `: ${err.message}`);
}

export function clearError(): void {
  alertBox.replaceChildren();
}

let saidAt = 0;

/** Tells the reader what just happened; `after` adds to a message said a moment ago (a steer, then what it withdrew). */
export function say(text: string, after = false): void {
  const now = Date.now();
  notice.textContent = after && now - saidAt < 2000 ? `${notice.textContent} ${text}` : text;
  saidAt = now;
}
