import fc from 'fast-check'
import type { OptionSpec } from '../../runtime/cli/argv.js'

/**
 * Command lines for the CLI fuzz, built from a command's own option specs: every spelling of each
 * option (`--salt v`, `--salt=v`, `-s v`, `-sv`, bundles `-mf`, a switch given a value, a value
 * missing at the end), operands, negative numbers, `--`, and tokens no command knows.
 */

/** Tokens every parser must cope with; none names `-g`, so none can point a run at a DNS name. */
export const NOISE = [
  '--',
  '-',
  '-5',
  '-0.3',
  '-.5',
  '---',
  '--=x',
  '-Z',
  '--unknown',
  '-\u00e9',
  '',
  ' ',
  '--salt=',
]

export interface ArgvOptions {
  /** The value given to an option. */
  value(spec: OptionSpec): fc.Arbitrary<string>
  operand: fc.Arbitrary<string>
  /**
   * Options whose value must always be one of `value(spec)`: never bundled, never left without a
   * value (the next token would become it). A run's Grape and workers stay on loopback this way.
   */
  guarded?: readonly string[]
}

/** The tokens of one option occurrence, in each spelling. */
function occurrence(spec: OptionSpec, options: ArgvOptions): fc.Arbitrary<string[]> {
  const long = `--${spec.name}`
  const short = spec.short === undefined ? undefined : `-${spec.short}`
  if (!spec.value) {
    return fc.constantFrom<string[]>([long], [short ?? long], [`${long}=x`], [`${long}=`])
  }
  const value = options.value(spec)
  const spellings: fc.Arbitrary<string[]>[] = [
    value.map((v) => [long, v]),
    value.map((v) => [`${long}=${v}`]),
    ...(short === undefined ? [] : [value.map((v) => [short, v]), value.map((v) => [`${short}${v}`])]),
  ]
  if (options.guarded?.includes(spec.name)) return fc.oneof(...spellings)
  return fc.oneof(
    { weight: 8, arbitrary: fc.oneof(...spellings) },
    // The option with nothing after it (the next token, if any, becomes its value).
    { weight: 1, arbitrary: fc.constant<string[]>([long]) },
  )
}

/** Short switches run together (`-mf`), now and then ending in a value option with its value glued on. */
function bundle(specs: readonly OptionSpec[], options: ArgvOptions): fc.Arbitrary<string[]> | undefined {
  const switches = specs.filter((s) => !s.value && s.short !== undefined).map((s) => s.short as string)
  const valued = specs.filter((s) => s.value && s.short !== undefined && !options.guarded?.includes(s.name))
  if (switches.length === 0) return undefined
  const tail =
    valued.length === 0
      ? fc.constant('')
      : fc.oneof(
          fc.constant(''),
          fc.constantFrom(...valued).chain((s) => options.value(s).map((v) => `${s.short}${v}`)),
        )
  return fc
    .tuple(fc.subarray(switches, { minLength: 1 }), tail)
    .map(([shorts, end]) => [`-${shorts.join('')}${end}`])
}

/** A command line for `specs`: options, bundles, operands and noise in any order. */
export function argv(specs: readonly OptionSpec[], options: ArgvOptions): fc.Arbitrary<string[]> {
  const bundled = bundle(specs, options)
  const token = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...specs).chain((spec) => occurrence(spec, options)) },
    { weight: 3, arbitrary: options.operand.map((o) => [o]) },
    { weight: 1, arbitrary: fc.constantFrom(...NOISE).map((t) => [t]) },
    ...(bundled ? [{ weight: 1, arbitrary: bundled }] : []),
  )
  return fc.array(token, { maxLength: 7 }).map((tokens) => tokens.flat())
}

/** Any text, now and then starting with a dash or holding `=`, control characters or emoji. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('-', '-x', '--y', 'a=b', '=', '\u0000', '😀', '0', '99999999999999999999', '1e3', '0x10'),
)

/** Operands that can never read as an option (a run must not get a host from one). */
export const plainOperand: fc.Arbitrary<string> = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9:_@.,{}"[\] ]{1,16}$/),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('svc,1000', 'fuzz:service', '"hello"', '{"action":"x","args":[]}'),
  )
  .filter((text) => !text.startsWith('-'))
