import { createActor } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import type { SessionClock } from './sessionClock.ts';
import type { StartEntry } from './sessionLog.ts';
import { createSessionMachine, type SessionMachine } from './sessionMachine.ts';

/** The replay's clock: it never fires timers (timeouts are in the log as the commands they caused). */
const STILL_CLOCK: SessionClock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };

/**
 * The replay's machine per engine, made once: a machine holds no session's state (a node's manager runs all
 * its sessions on one), and building one costs as much as replaying a few log events.
 */
const machines = new WeakMap<Engine, SessionMachine>();

/**
 * The session machine that served a session, made ready to be driven over its log: told it is replaying
 * (it never runs the model on its own; decisions come from the log), on a clock that never fires, with
 * windows wide enough that it never refuses a seq the server took. Not started, so listeners can be added.
 * Replay, the log walk (rescore, counterfactual) and the wire replay's session service share it.
 *
 * @example
 * const actor = replayActor(engine, log.start, 'replay');
 * actor.on('session.reply', ({ reply }) => replies.set(reply.reqId, reply));
 * actor.start();
 */
export function replayActor(engine: Engine, start: StartEntry, sessionId: string) {
  let machine = machines.get(engine);
  if (!machine) {
    machine = createSessionMachine({ engine, now: () => 0 });
    machines.set(engine, machine);
  }
  return createActor(machine, {
    clock: STILL_CLOCK,
    input: {
      sessionId,
      owner: start.connectionId ?? sessionId,
      principal: null,
      tokenHash: '',
      settings: {
        graceMs: Number.MAX_SAFE_INTEGER,
        idleMs: Number.MAX_SAFE_INTEGER,
        maxMore: 100,
        historyWindow: 100_000,
      },
      nowMs: start.atMs,
      replaying: true,
    },
  });
}
