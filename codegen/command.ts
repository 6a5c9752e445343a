/**
 * The `grenache-gen` command line that regenerates a project's files, as the header of every
 * generated file and `ERR_STALE` print it. Built from the options that shape the output (not from
 * how this run was started: `npm run generate` or `tsx codegen/cli.ts` are not commands a user of
 * the package has), defaults left out, so the same output always names the same command.
 */
export interface CommandOptions {
  /** The schemas directory, relative to the project root. */
  schemas: string
  /** The output directory, relative to the project root. */
  out: string
  /** What generated code imports the runtime from. */
  runtime?: string
}

const DEFAULTS = { schemas: 'schemas', out: 'generated', runtime: 'grenache-gen' } as const

/** `grenache-gen`, then `--schemas`, `--out` and `--runtime` where they differ from the defaults. */
export function regenerateCommand(options: CommandOptions): string {
  const words = ['grenache-gen']
  for (const flag of ['schemas', 'out', 'runtime'] as const) {
    const value = options[flag] ?? DEFAULTS[flag]
    if (value !== DEFAULTS[flag]) words.push(`--${flag}`, shellWord(value))
  }
  return words.join(' ')
}

/** `value` as one shell word: as it is when it holds nothing a shell would split or expand. */
function shellWord(value: string): string {
  return /^[\w./@:+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`
}
