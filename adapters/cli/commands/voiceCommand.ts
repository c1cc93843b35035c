import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { createRng } from '../../../engine/rng.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import { loadRuntime } from '../../runtime.ts';
import { createVoiceDemo, formatTurn } from '../../voice/voiceDemo.ts';

/**
 * `omakase voice`: the Alexa path without Alexa. Each typed or piped line is an utterance; it becomes the
 * request Alexa would send, goes through the same handler and session manager, and the answer shows what
 * Alexa would say, what plays and why.
 */
export function voiceCommand(): Command {
  return new Command('voice')
    .description(
      'try the voice path in the terminal: type (or pipe) what you would say to Alexa, one line each',
    )
    .option('--catalog <file>', 'a JSONL catalog (docs/data-format.md)')
    .option('--sessions <file>', 'logged sessions (JSONL) for the transition memory')
    .option('--model <dir>', 'a model directory (model.onnx + model-card.json)')
    .option('--seed <seed>', 'fixes the sessions and the openings, so a script plays the same way twice')
    .option('--json', 'one JSON object per utterance')
    .addHelpText(
      'after',
      '\nSay e.g. "play some jazz", "skip", "I love this", "not this artist", "something calmer", "more like this",\n"pause", "resume", "stop"; "wait" lets the playing item play to its end. Grammar: the sample utterances of\nadapters/voice/skill-package/interactionModels/custom/en-US.json (docs/voice.md).',
    )
    .action(async (opts) => {
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw new Error('--seed must be an integer.');
      const runtime = await loadRuntime({
        catalogPath: opts.catalog,
        sessionsPath: opts.sessions,
        modelDir: opts.model,
        warn: (m) => process.stderr.write(`omakase: ${m}\n`),
      });
      const service = createSessionManager({
        engine: runtime.engine,
        store: createMemoryStore(),
        ...(seed === undefined ? {} : { randomSeed: () => seed }),
      });
      // Seeded, the openings repeat with the seed too.
      const rng = seed === undefined ? undefined : createRng(seed);
      const random = rng ? () => rng.next() : Math.random;
      const demo = createVoiceDemo({ service, catalog: runtime.catalog, random });
      const interactive = process.stdin.isTTY;
      if (!opts.json) {
        process.stdout.write(`# ${runtime.description}; the Alexa handler in process, requests not signed\n`);
        if (interactive) process.stdout.write('# say something ("play some jazz", "help"); Ctrl-D ends\n');
      }
      const lines = createInterface({ input: process.stdin, terminal: false });
      for await (const line of lines) {
        if (line.trim() === '' || line.trim().startsWith('#')) continue;
        const turn = await demo.say(line);
        process.stdout.write(opts.json ? `${JSON.stringify(turn)}\n` : `${formatTurn(turn)}\n`);
      }
      await service.close();
    });
}
