/**
 * Tests that need a tool or data from outside the repository (Debian's chromium, openssl, the shared datasets)
 * skip on a machine without it, saying why in their title. CI must run them all: `.ci/run` sets
 * `OMAKASE_TEST_ALL=1`, and then a missing requirement fails the suite instead of skipping it.
 */
export const mustRunAll = process.env.OMAKASE_TEST_ALL === '1';

/** For `describe.skipIf`: skip only when the requirement is missing and CI did not ask for every test. */
export const missing = (available: boolean): boolean => !available && !mustRunAll;
