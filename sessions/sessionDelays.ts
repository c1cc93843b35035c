import type { SessionContext, SessionEvent } from './sessionContext.ts';
import type { SessionMachineDeps } from './sessionMachineDeps.ts';

/** The machine's named delays: what is left of the idle timeout and of the grace window. */
export function sessionDelays(deps: Pick<SessionMachineDeps, 'now'>) {
  return {
    idle: ({ context }: { context: SessionContext }) =>
      Math.max(0, context.lastEventAt + context.settings.idleMs - deps.now()),
    grace: ({ context, event }: { context: SessionContext; event: SessionEvent }) => {
      const now = 'nowMs' in event ? event.nowMs : 0;
      return Math.max(0, (context.disconnectedAt ?? now) + context.settings.graceMs - now);
    },
  };
}
