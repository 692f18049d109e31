/**
 * The command line of a CLI (node:util parseArgs, strict), or exit 2 with the reason and the
 * usage on stderr (an unknown option, a missing value, a positional argument) before anything
 * starts: a person's typing mistake, not a crash to show a stack trace for. `--help`/`-h`
 * prints the usage on stdout and exits 0.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O & typeof HELP }>>['values'];

export function parseCommandLine<const O extends Options>(options: O, usage: string): Values<O> {
  let values: Values<O>;
  try {
    values = parseArgs({ options: { ...options, ...HELP } }).values;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    // Only node:util's own parse errors (ERR_PARSE_ARGS_UNKNOWN_OPTION, …_INVALID_OPTION_VALUE, …_UNEXPECTED_POSITIONAL).
    if (!(err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) throw err;
    // node:util's messages can span lines ("… is ambiguous.\nDid you forget …"): one line here.
    process.stderr.write(`${err.message.replace(/\s*\n\s*/g, ' ')}\n${usage}\n`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}
