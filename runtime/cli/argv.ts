import { parseArgs } from 'node:util'
import { UsageError } from './io.js'

/** One option of a command. */
export interface OptionSpec {
  /** Long name, without dashes. */
  name: string
  short?: string
  /** Name of its value in the help (`SALT`); absent for a switch. */
  value?: string
  /** May be given several times (values are kept in order). */
  multiple?: true
  help: string
}

/** A parsed command line: options by long name, in the order given, and the operands. */
export interface CommandLine {
  /** Every option given, in order: `true` for a switch, the text for an option with a value. */
  given: { name: string; value: string | true }[]
  operands: string[]
  has(name: string): boolean
  /** The value of the option's last occurrence. */
  value(name: string): string | undefined
  values(name: string): string[]
}

/**
 * Parses GNU-style: `-s v`, `-sv`, `--salt v`, `--salt=v`, bundled switches (`-mf`), options before
 * or after the operands, `--` ending the options. A token that reads as a negative number (`-5`,
 * `-0.3`) is an operand, so readings pass as values. An unknown option, a missing value, or a value
 * given to a switch is a `UsageError`; nothing unknown ever ends up inside an operand.
 */
export function parseCommandLine(argv: readonly string[], specs: readonly OptionSpec[]): CommandLine {
  const byName = new Map(specs.map((spec) => [spec.name, spec]))
  // parseArgs would split `-5s` into the options -5 and -s; a stand-in that cannot read as an
  // option keeps every negative number whole, as an operand or as an option's value. Tokens are
  // restored by their position, never by their text, so an argument that looks like a stand-in
  // (one starting with NUL, through `runCli`) stays itself.
  const isNumber = (arg: string) => /^-\.?\d/.test(arg)
  const { tokens } = parseArgs({
    args: argv.map((arg) => (isNumber(arg) ? '\u0000' : arg)),
    options: Object.fromEntries(
      specs.map((spec) => [
        spec.name,
        {
          type: spec.value ? ('string' as const) : ('boolean' as const),
          ...(spec.short ? { short: spec.short } : {}),
        },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const given: CommandLine['given'] = []
  const operands: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') {
      operands.push(argv[token.index] as string)
      continue
    }
    if (token.kind === 'option-terminator') continue
    const spec = byName.get(token.name)
    if (!spec) throw new UsageError(`unknown option ${token.rawName}`)
    if (spec.value) {
      if (token.value === undefined)
        throw new UsageError(`option ${display(spec)} needs a value (${spec.value})`)
      // A value of its own (`-s v`, `--salt v`) is the next argument; an inline one is not a stand-in.
      given.push({
        name: spec.name,
        value: token.inlineValue ? token.value : (argv[token.index + 1] as string),
      })
    } else {
      if (token.inlineValue) throw new UsageError(`option ${display(spec)} takes no value`)
      given.push({ name: spec.name, value: true })
    }
  }
  for (const spec of specs) {
    if (!spec.multiple && given.filter((g) => g.name === spec.name && g.value !== true).length > 1) {
      throw new UsageError(`option ${display(spec)} was given more than once`)
    }
  }
  return {
    given,
    operands,
    has: (name) => given.some((g) => g.name === name),
    value: (name) => given.findLast((g) => g.name === name && g.value !== true)?.value as string | undefined,
    values: (name) => given.filter((g) => g.name === name && g.value !== true).map((g) => g.value as string),
  }
}

/** `-s, --salt` as messages and help show an option. */
export function display(spec: OptionSpec): string {
  return spec.short ? `-${spec.short}/--${spec.name}` : `--${spec.name}`
}

/** The help's option rows. */
export function optionRows(specs: readonly OptionSpec[]): string[] {
  const rows = specs.map((spec) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${spec.name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.help,
  ])
  const width = Math.max(...rows.map(([left]) => (left as string).length)) + 2
  return rows.map(([left, right]) => `  ${(left as string).padEnd(width)}${right}`)
}
