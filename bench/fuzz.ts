/**
 * The protocol fuzzer at full count against a real `omakase serve` process (memory store, demo catalog and
 * model): FUZZ_FRAMES frames (default 100,000) of every kind over 8 fuzz connections, 3 canary sessions
 * streaming throughout. Prints a summary; last line one JSON object. Exits 1 on any problem, or if the
 * server process died.
 *
 *   npm run bench:fuzz      (FUZZ_FRAMES, FUZZ_SEED)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runFuzz } from './protocolFuzz.ts';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 42);
const CLI = fileURLToPath(new URL('../adapters/cli/omakase.js', import.meta.url));

const proc = spawn(
  process.execPath,
  [
    CLI,
    'serve',
    '--memory',
    '--port',
    '0',
    '--messages-per-second',
    '1000000',
    '--message-burst',
    '1000000',
    '--session-starts-per-minute',
    '1000000',
    '--max-sessions-per-principal',
    '100000',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let exitCode: number | null | undefined;
proc.once('exit', (code) => {
  exitCode = code;
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  // The log goes on being read (a full pipe would stall the server), and only the first lines are kept.
  proc.stdout!.on('data', (c: Buffer) => {
    if (out.length < 10_000) out += c.toString();
    const m = /listening on (ws:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
});
console.log(`# fuzzing ${url} with ${FRAMES} frames, seed ${SEED}`);
const result = await runFuzz({ url, frames: FRAMES, seed: SEED, connections: 8, canaries: 3 });
const alive = exitCode === undefined;
proc.kill('SIGTERM');
const problems = [...result.problems, ...result.canaryProblems];
console.log(
  `frames ${result.frames} in ${(result.ms / 1000).toFixed(1)} s over ${result.connectionsOpened} connections`,
);
console.log(
  `bad frames answered with their documented code: ${result.parseErrorsAnsweredWithTheirCode} of ${result.parseErrorsExpected}`,
);
console.log(
  `valid requests answered: ${result.requestsAnswered}; unanswered because a documented close came first: ${result.unansweredBeforeAClose}`,
);
console.log(
  `closes: ${JSON.stringify(result.closes)}; canary items ${result.canaryItems}; server alive: ${alive}`,
);
for (const p of problems.slice(0, 20)) console.log(`problem: ${p}`);
console.log(
  JSON.stringify({
    ...result,
    problems: problems.length,
    canaryProblems: result.canaryProblems.length,
    firstProblems: problems.slice(0, 5),
    serverAlive: alive,
  }),
);
process.exit(problems.length === 0 && alive ? 0 : 1);
