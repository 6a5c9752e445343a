import { type ErrorCode, GrenacheError } from '../errors.js'

/**
 * Small checks shared by every options object and call argument. Each throws a `GrenacheError`
 * whose message names the value (`options.apiPort`, `port`) and the rule it broke.
 */
export class Checker {
  constructor(
    private readonly code: ErrorCode,
    private readonly prefix: string,
  ) {}

  fail(name: string, rule: string, value: unknown): never {
    const subject = name === '' ? this.prefix.replace(/\.$/, '') || 'value' : `${this.prefix}${name}`
    throw new GrenacheError(this.code, `${subject} ${rule}, got ${show(value)}`)
  }

  integer(name: string, value: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(name, `must be an integer from ${min} to ${max}`, value)
    }
    return value
  }

  port(name: string, value: unknown): number {
    return this.integer(name, value, 0, 65535)
  }

  string(name: string, value: unknown, nonEmpty = true): string {
    if (typeof value !== 'string' || (nonEmpty && value.length === 0)) {
      this.fail(name, nonEmpty ? 'must be a non-empty string' : 'must be a string', value)
    }
    return value
  }

  boolean(name: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(name, 'must be a boolean', value)
    return value
  }

  /** `host:port` with a port from 1 to 65535, as in a bootstrap list. */
  hostPort(name: string, value: unknown): string {
    const text = this.string(name, value)
    const match = /^(.+):(\d{1,5})$/.exec(text)
    const port = match ? Number(match[2]) : 0
    if (!match || port < 1 || port > 65535)
      this.fail(name, 'must be "host:port" with a port from 1 to 65535', value)
    return text
  }
}

/** Checks for options given to constructors (`ERR_INVALID_OPTION`, names prefixed `options.`). */
export const checkOption: Checker = new Checker('ERR_INVALID_OPTION', 'options.')
/** Checks for arguments given to calls (`ERR_INVALID_ARGUMENT`). */
export const checkArgument: Checker = new Checker('ERR_INVALID_ARGUMENT', '')

/** A short, safe rendering of a bad value for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (value instanceof Uint8Array) return `${value.length} bytes`
  return 'an object'
}
