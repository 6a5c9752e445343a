import { relative } from 'node:path'
import fc from 'fast-check'
import { expect } from 'vitest'

/**
 * The one fuzz harness: every target in test/fuzz draws its cases from the same seed and scales its
 * budget the same way, so a failure anywhere replays with the command its message prints.
 *
 * - `FUZZ_SEED` (decimal or 0x hex): the base seed; each target derives its own from it and its
 *   name, so adding a target does not change the cases of another. Default: a fixed seed, so that
 *   `npm test` runs the same cases every time.
 * - `FUZZ_LONG=1` (what `npm run fuzz -- --long` sets): every budget times `LONG_FACTOR`.
 */

const DEFAULT_SEED = 0x6772656e
/** How much deeper a `--long` run goes than `npm test`. */
const LONG_FACTOR = 10

function readSeed(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_SEED
  const seed = Number(text)
  if (!Number.isSafeInteger(seed))
    throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(text)}`)
  return seed | 0
}

export const fuzzConfig = {
  seed: readSeed(process.env.FUZZ_SEED),
  long: process.env.FUZZ_LONG === '1',
}

/** The command that runs this target's file again with the same cases. */
export function reproduce(): string {
  const long = fuzzConfig.long ? ' --long' : ''
  const path = expect.getState().testPath
  const file = path === undefined ? 'test/fuzz' : relative(process.cwd(), path)
  return `npm run fuzz -- --seed ${fuzzConfig.seed}${long} ${file}`
}

/** The seed of one target: the base seed mixed with an FNV-1a hash of its name. */
export function targetSeed(target: string): number {
  let hash = 0x811c9dc5
  for (const char of target) hash = Math.imul(hash ^ (char.codePointAt(0) as number), 0x01000193)
  return (hash ^ fuzzConfig.seed) | 0
}

/** `runs` in `npm test`, `LONG_FACTOR` times more with `--long`. */
export function budget(runs: number): number {
  return fuzzConfig.long ? runs * LONG_FACTOR : runs
}

/**
 * A test timeout for a target whose default budget takes about `typicalMs` on a quiet machine:
 * generous (the CI machine is a shared 2-core one), and scaled with the budget.
 */
export function timeoutFor(typicalMs: number): number {
  return Math.max(30_000, typicalMs * 6) * (fuzzConfig.long ? LONG_FACTOR : 1)
}

/** `runs` cases of `arbitrary`, the same for the same seed and target. */
export function cases<T>(target: string, arbitrary: fc.Arbitrary<T>, runs: number): T[] {
  return fc.sample(arbitrary, { seed: targetSeed(target), numRuns: runs })
}

/**
 * `fc.assert` with the target's seed: for pure targets, where fast-check's shrinking finds the
 * smallest failing case. The error names the seed to replay with.
 */
export async function fuzzAssert<T>(
  target: string,
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  runs: number,
): Promise<void> {
  try {
    await fc.assert(property, { seed: targetSeed(target), numRuns: runs })
  } catch (err) {
    throw new Error(`fuzz target "${target}" failed; replay: ${reproduce()}\n${(err as Error).message}`, {
      cause: err,
    })
  }
}

/** Resolves with `promise`, or rejects with `what` after `ms`: the bound on every probe. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** What escaped the code under test in this process while the watch was on. */
export interface ProcessWatch {
  readonly escaped: unknown[]
  stop(): void
}

/**
 * Records uncaught exceptions and unhandled rejections. The servers under fuzz run in the test's
 * process: what would have crashed a real one lands here, and the target fails on it.
 */
export function watchProcess(): ProcessWatch {
  const escaped: unknown[] = []
  const record = (err: unknown): void => void escaped.push(err)
  process.on('uncaughtException', record)
  process.on('unhandledRejection', record)
  return {
    escaped,
    stop() {
      process.off('uncaughtException', record)
      process.off('unhandledRejection', record)
    },
  }
}

/** One case that failed: which, and why. */
export interface Finding {
  index: number
  input: string
  problem: string
}

export interface BatchOptions<T> {
  target: string
  /** Cases run at once (a server sees them concurrently). */
  concurrency: number
  /** Cases between two checkpoints. */
  batch: number
  /** Probes one case; resolves with a problem (a string) or undefined when the answer was acceptable. */
  probe(input: T, index: number): Promise<string | undefined>
  /** After each batch: the server must still serve a good request (throws if not). */
  checkpoint(): Promise<void>
  /** How a case is printed in a failure: bytes as hex, values as JSON. */
  show(input: T): string
  watch: ProcessWatch
}

/**
 * Runs every case through `probe`, `concurrency` at a time, with a checkpoint after each batch.
 * Throws at the first batch with a finding, an escaped error or a failed checkpoint, with the
 * cases of that batch and the seed to replay with.
 */
export async function runBatches<T>(inputs: readonly T[], options: BatchOptions<T>): Promise<void> {
  const { target, watch } = options
  for (let start = 0; start < inputs.length; start += options.batch) {
    const slice = inputs.slice(start, start + options.batch)
    const findings: Finding[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < slice.length) {
        const index = start + next
        const input = slice[next++] as T
        const problem = await options.probe(input, index).catch((err: unknown) => `threw ${explain(err)}`)
        if (problem !== undefined) findings.push({ index, input: options.show(input), problem })
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    let checkpoint: string | undefined
    if (findings.length === 0 && watch.escaped.length === 0) {
      checkpoint = await options.checkpoint().then(
        () => undefined,
        (err: unknown) => explain(err),
      )
    }
    if (findings.length > 0 || watch.escaped.length > 0 || checkpoint !== undefined) {
      const lines = [
        `fuzz target "${target}" failed in cases ${start}..${start + slice.length - 1}; replay: ${reproduce()}`,
        ...watch.escaped.map((err) => `escaped the server: ${explain(err)}`),
        ...(checkpoint === undefined ? [] : [`a good request afterwards failed: ${checkpoint}`]),
        ...findings.slice(0, 5).map((f) => `case ${f.index}: ${f.problem}\n  input: ${f.input}`),
      ]
      if (findings.length === 0) {
        lines.push(...slice.map((input, i) => `case ${start + i}: ${options.show(input)}`).slice(0, 50))
      }
      throw new Error(lines.join('\n'))
    }
  }
}

export function explain(err: unknown): string {
  if (err instanceof Error) return `${err.name}${'code' in err ? ` ${String(err.code)}` : ''}: ${err.message}`
  return String(err)
}

/** A printable form of bytes: text when they are printable ASCII, else hex. */
export function showBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text = buffer.toString('latin1')
  const clip = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}… (${buffer.length} bytes)` : s)
  return /^[\x20-\x7e\r\n\t]*$/.test(text)
    ? clip(JSON.stringify(text))
    : `hex:${clip(buffer.toString('hex'))}`
}

/** An edit of a byte string: overwrite a byte, cut the tail, insert a byte, or repeat a slice. */
export type ByteEdit = [at: number, byte: number, how: number]

const edit: fc.Arbitrary<ByteEdit> = fc.tuple(fc.nat(), fc.nat(255), fc.nat(3))

/** Applies `edits` in order; never returns an empty string. */
export function applyEdits(bytes: Uint8Array, edits: readonly ByteEdit[]): Buffer {
  let out = Buffer.from(bytes)
  for (const [at, byte, how] of edits) {
    const i = out.length === 0 ? 0 : at % out.length
    if (how === 0 && out.length > 0) out[i] = byte
    else if (how === 1) out = out.subarray(0, i)
    else if (how === 2) out = Buffer.concat([out.subarray(0, i), Buffer.of(byte), out.subarray(i)])
    else out = Buffer.concat([out.subarray(0, i), out.subarray(i, i + 1 + (byte % 16)), out.subarray(i)])
    if (out.length === 0) out = Buffer.of(byte)
  }
  return out
}

/** `bytes` with one to three random edits: a well-formed message made slightly wrong. */
export function mutated(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(bytes, fc.array(edit, { minLength: 1, maxLength: 3 }))
    .map(([b, edits]) => applyEdits(b, edits))
}
