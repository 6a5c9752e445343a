/**
 * Carries JSDoc written on schema fields into the schemas the generator reads: while a schema file
 * is transpiled, `/** text *\/ name: expr` in an object literal becomes
 * `name: __grenacheDoc(expr, "text")`, which gives a zod schema without a description
 * `.describe(text)` and leaves every other value alone. The generator then finds the text where it
 * finds `.describe()` texts (the JSON Schema's `description`): in the lock and in the generated
 * types' JSDoc. Only at generation time; the app runs its schema files untouched.
 */
import type { ts as TypeScript } from 'ts-morph'

const HELPER = '__grenacheDoc'

/** Appended to a file that needed it (a hoisted function, so it exists before any field). */
const HELPER_SOURCE = `
function ${HELPER}(schema, text) {
  return schema !== null && typeof schema === 'object' && '_zod' in schema && typeof schema.describe === 'function' && schema.description === undefined ? schema.describe(text) : schema
}
`

/** The text of the JSDoc block in the trivia at `pos`, without tags, or undefined. */
function jsdocText(ts: typeof TypeScript, source: string, pos: number): string | undefined {
  // A comment on the line of the previous token counts as that token's trailing comment in TS's
  // terms (`{ /** doc *\/ n: … }`); both kinds precede this node, the last one is its doc.
  const ranges = [
    ...(ts.getTrailingCommentRanges(source, pos) ?? []),
    ...(ts.getLeadingCommentRanges(source, pos) ?? []),
  ]
  const last = ranges.at(-1)
  if (!last || last.kind !== ts.SyntaxKind.MultiLineCommentTrivia) return undefined
  const comment = source.slice(last.pos, last.end)
  if (!comment.startsWith('/**') || comment === '/**/') return undefined
  const lines = comment
    .slice(3, -2)
    .split('\n')
    .map((line) => line.replace(/^\s*\*? ?/, '').trimEnd())
  const tag = lines.findIndex((line) => line.startsWith('@'))
  const text = (tag === -1 ? lines : lines.slice(0, tag)).join('\n').trim()
  return text === '' ? undefined : text
}

/** A `before` transformer for `transpileModule`; `helper()` is the source to append when it was used. */
export function jsdocTransformer(ts: typeof TypeScript, source: string) {
  let used = false
  const factory: TypeScript.TransformerFactory<TypeScript.SourceFile> = (context) => {
    const f = context.factory
    const documented = (original: TypeScript.Node, visited: TypeScript.ObjectLiteralElementLike) => {
      const text = jsdocText(ts, source, original.pos)
      if (text === undefined) return visited
      const value = ts.isPropertyAssignment(visited)
        ? visited.initializer
        : ts.isShorthandPropertyAssignment(visited)
          ? f.createIdentifier(visited.name.text)
          : undefined
      if (!value || !(ts.isPropertyAssignment(visited) || ts.isShorthandPropertyAssignment(visited)))
        return visited
      used = true
      const call = f.createCallExpression(f.createIdentifier(HELPER), undefined, [
        value,
        f.createStringLiteral(text),
      ])
      return f.createPropertyAssignment(visited.name, call)
    }
    const visit = (node: TypeScript.Node): TypeScript.Node => {
      const visited = ts.visitEachChild(node, visit, context)
      if (!ts.isObjectLiteralExpression(node) || !ts.isObjectLiteralExpression(visited)) return visited
      const properties = visited.properties.map((property, i) =>
        documented(node.properties[i] ?? property, property),
      )
      return f.updateObjectLiteralExpression(visited, properties)
    }
    return (file) => ts.visitNode(file, visit) as TypeScript.SourceFile
  }
  return { factory, helper: () => (used ? HELPER_SOURCE : '') }
}
