/** Time for the session layer and its actors: a reading and timers (xstate's `SimulatedClock` fits). */
export interface SessionClock {
  now(): number;
  // biome-ignore lint/suspicious/noExplicitAny: timer handles differ between Node, browsers and SimulatedClock.
  setTimeout(fn: (...args: any[]) => void, timeout: number): any;
  // biome-ignore lint/suspicious/noExplicitAny: see setTimeout.
  clearTimeout(id: any): void;
}

/** The wall clock, with timers that do not keep an otherwise idle process alive. */
export const SYSTEM_CLOCK: SessionClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer),
};
