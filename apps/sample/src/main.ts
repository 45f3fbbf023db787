/** `pnpm demo`: see README.md and `pnpm demo -- --help`. */
import { parseCommandLine, USAGE } from './cli.js';

let command: ReturnType<typeof parseCommandLine>;
try {
  command = parseCommandLine(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}

if (command.help) {
  console.log(USAGE);
} else {
  // Imported here, so that `--help` does not load the demo server.
  const { runDemo } = await import('./demo.js');
  const { describeError } = await import('./flow.js');
  try {
    const { passed } = await runDemo({ ...command.options, print: (line) => console.log(line) });
    process.exitCode = passed ? 0 : 1;
  } catch (error) {
    console.error(`The demo could not run: ${describeError(error)}`);
    process.exitCode = 1;
  }
}
