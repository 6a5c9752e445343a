import { cpus, loadavg, totalmem } from 'node:os'

/** Load averages (1, 5, 15 min) as `a/b/c`. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join('/')
}

/** One line describing the machine and the Node runtime. */
export function describeMachine(): string {
  const list = cpus()
  const model = list[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU'
  const memory = (totalmem() / 2 ** 30).toFixed(0)
  return `Node ${process.version} (${process.platform} ${process.arch}), ${list.length} CPU x ${model}, ${memory} GiB RAM`
}
