import { Command } from 'commander';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { evalCommand } from './commands/evalCommand.ts';
import { importCommand } from './commands/importCommand.ts';
import { replayCommand } from './commands/replayCommand.ts';
import { serveCommand } from './commands/serveCommand.ts';
import { streamCommand } from './commands/streamCommand.ts';
import { trainCommand } from './commands/trainCommand.ts';
import { voiceCommand } from './commands/voiceCommand.ts';

/** The CLI: one file per command under commands/, each exporting a commander `Command`. */
const program = new Command('omakase')
  .description("omakase: a session engine for chef's-choice streams")
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(streamCommand());
program.addCommand(trainCommand());
program.addCommand(evalCommand());
program.addCommand(importCommand());
program.addCommand(replayCommand());
program.addCommand(voiceCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isOmakaseError(err)) {
    process.stderr.write(`omakase: ${err.code}: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
