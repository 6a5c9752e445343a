import { readFileSync } from 'node:fs'
import { ROOT } from './children.js'

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/** A time window on the CLOCK_MONOTONIC µs timeline (`process.hrtime.bigint() / 1000n`), as V8 profiles use. */
export interface ProfileWindow {
  startUs: number
  endUs: number
}

export interface ProfileEntry {
  label: string
  ms: number
  /** Share of the busy (non-idle) time in the window. */
  share: number
}

export interface ProfileSummary {
  /** Sampled time in the window, ms. */
  totalMs: number
  /** Non-idle sampled time in the window, ms. */
  busyMs: number
  /** The functions with the most self time. */
  top: ProfileEntry[]
  /** Self time grouped by package / Node module / our folder. */
  areas: ProfileEntry[]
  /** False when the window matched no sample and the whole profile was used. */
  windowed: boolean
}

/**
 * Self time per function in a `.cpuprofile`, restricted to `window` when given (V8 and
 * `process.hrtime` share the monotonic clock, so windows measured in another process line up).
 */
export function summarizeProfile(path: string, window?: ProfileWindow, topCount = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const inWindow = (at: number) => !window || (at >= window.startUs && at <= window.endUs)
  const windowed = window !== undefined && countIn(profile, inWindow) > 0
  const accept = windowed ? inWindow : () => true

  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  let total = 0
  let idle = 0
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    if (!accept(at)) continue
    const weight = (profile.timeDeltas[i + 1] ?? 0) / 1000
    const frame = frames.get(profile.samples[i] as number)
    if (!frame) continue
    total += weight
    if (frame.functionName === '(idle)') {
      idle += weight
      continue
    }
    const label = `${frame.functionName || '(anonymous)'}${location(frame.url, frame.lineNumber)}`
    byFunction.set(label, (byFunction.get(label) ?? 0) + weight)
    const area = areaOf(frame.url, frame.functionName)
    byArea.set(area, (byArea.get(area) ?? 0) + weight)
  }
  const busy = total - idle
  const rank = (map: Map<string, number>, count: number): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([label, ms]) => ({ label, ms, share: busy > 0 ? ms / busy : 0 }))
  return { totalMs: total, busyMs: busy, top: rank(byFunction, topCount), areas: rank(byArea, 8), windowed }
}

function countIn(profile: CpuProfile, accept: (at: number) => boolean): number {
  let at = profile.startTime
  let count = 0
  for (const delta of profile.timeDeltas) {
    at += delta
    if (accept(at)) count++
  }
  return count
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url
  const modules = path.lastIndexOf('/node_modules/')
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length)
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path
}

function location(url: string, line: number): string {
  if (!url) return ''
  // tsx's transform of our .ts files does not keep line numbers: the function name must do.
  return line <= 0 && url.endsWith('.ts') ? ` ${shortUrl(url)}` : ` ${shortUrl(url)}:${line + 1}`
}

/** Where a function lives: `pkg:<name>`, `node:<module>`, `ours:<folder>`, `bench`, or a native frame. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url
  const modules = path.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/')
    return `pkg:${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`
  }
  const relative = path.startsWith(ROOT) ? path.slice(ROOT.length) : path
  if (relative.startsWith('runtime/')) return `ours:${relative.split('/').slice(0, 2).join('/')}`
  if (relative.startsWith('bench/')) return 'bench'
  return relative
}

/** The summary as indented text lines. */
export function formatProfileSummary(title: string, summary: ProfileSummary): string {
  const percent = (entry: ProfileEntry) => `${(entry.share * 100).toFixed(1)}%`
  const lines = [
    `- ${title}: busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled${
      summary.windowed ? ' (measured window only)' : ' (whole process)'
    }`,
    `  - by area: ${summary.areas.map((entry) => `${entry.label} ${percent(entry)}`).join(', ')}`,
    '  - top self time:',
    ...summary.top.map((entry) => `    ${percent(entry).padStart(6)}  ${entry.label}`),
  ]
  return lines.join('\n')
}
