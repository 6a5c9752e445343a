import { pascalCase } from '../../runtime/schema.js'
import { checkState, type StateDefinition, stateFeed, stateLimits } from '../../runtime/state/define.js'
import { stateFingerprint } from '../../runtime/state/fingerprint.js'
import type { StateModel } from '../model.js'
import { checkNode } from './check-model.js'
import { type LayoutProblem, wireType } from './layout.js'

/** A rule a state breaks, where (`leaf.price`), and why. */
export interface StateRuleProblem {
  rule: string
  path: string
  message: string
}

/** The model of a state, or the rules it breaks. */
export function stateModel(
  exportName: string,
  state: StateDefinition,
): { model: StateModel } | { problems: StateRuleProblem[] } {
  const problems: StateRuleProblem[] = checkState(state)
  if (problems.length > 0) return { problems }
  const layout: LayoutProblem[] = []
  const key = wireType(state.key, 'key', layout)
  const leaf = wireType(state.leaf, 'leaf', layout)
  for (const p of layout) problems.push({ rule: 'layout', path: p.path, message: p.message })
  if (layout.length === 0 && key.type !== 'string' && key.type !== 'int' && key.type !== 'uint') {
    problems.push({
      rule: 'key',
      path: 'key',
      message: `must be a zod string or integer type, not ${key.type}`,
    })
  }
  if (problems.length > 0 || leaf.type !== 'object') return { problems }
  const limits = stateLimits(state)
  const shape = state.leaf.shape as Record<string, { description?: string }>
  return {
    model: {
      exportName,
      name: state.name,
      pascal: `${pascalCase(state.name)}${state.version > 1 ? `V${state.version}` : ''}`,
      version: state.version,
      feed: stateFeed(state),
      description: state.description,
      fieldDocs: Object.keys(shape)
        .sort()
        .flatMap((name) => {
          const description = shape[name]?.description
          return typeof description === 'string' ? [{ name, description }] : []
        }),
      ...limits,
      key,
      leaf,
      fingerprint: stateFingerprint({ name: state.name, version: state.version, ...limits, key, leaf }),
      checks: { key: checkNode(state.key), leaf: checkNode(state.leaf) },
    },
  }
}

export { stateFingerprint }
