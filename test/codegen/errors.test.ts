import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CODEGEN_ERROR_CODES, CodegenError } from '../../codegen/errors.js'

/** The rows of README's generator-error table: code → meaning. */
function readmeRows(): Record<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('| generator error |'))
  const rows: Record<string, string> = {}
  for (const line of table.split('\n').slice(2)) {
    const match = /^\| `([A-Z_]+)` +\| (.+?) +\|$/.exec(line)
    if (!match) break
    rows[match[1] as string] = match[2] as string
  }
  return rows
}

describe('CODEGEN_ERROR_CODES', () => {
  it('has a README row for every code, with the same meaning, and no row for anything else', () => {
    expect(readmeRows()).toEqual({ ...CODEGEN_ERROR_CODES })
  })
})

describe('CodegenError', () => {
  it('carries the code, the file, the export and the rule', () => {
    const error = new CodegenError('ERR_SCHEMA_INVALID', 'bad', {
      file: 'schemas/a.schema.ts',
      exportName: 'a',
      rule: 'version',
    })
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({
      name: 'CodegenError',
      code: 'ERR_SCHEMA_INVALID',
      file: 'schemas/a.schema.ts',
      exportName: 'a',
      rule: 'version',
    })
  })
})
