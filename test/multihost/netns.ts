/**
 * Hosts as network namespaces: `gg-<pid>-<host>` for each host and `gg-<pid>-br` holding one bridge
 * that joins them, each host wired to it by a veth pair and given 10.213.0.<n>/24. Nothing is made in
 * the namespace the tests run in; deleting the namespaces deletes the bridge and the veths with them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'

const SUBNET = '10.213.0'

export interface Host {
  /** The namespace's name. */
  ns: string
  /** Its address on the shared link. */
  address: string
}

export interface Topology {
  hosts: Record<string, Host>
  /** Starts `argv` inside a host's namespace; the child is ended by `destroy()`. */
  spawn(host: string, argv: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess
  /** Ends every child by PID and deletes every namespace made; safe to call twice, or after a failed create. */
  destroy(): Promise<void>
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 })
}

/**
 * Why namespaces cannot be made here (not root, no iproute2, a sandbox), or undefined when they can:
 * made and deleted once to find out.
 */
export function namespaceProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)'
  const probe = `gg-${process.pid}-probe`
  try {
    ip('netns', 'add', probe)
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 'the ip command (iproute2) is not installed'
    const text = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message
    return `"ip netns add" failed: ${text}`
  }
  ip('netns', 'del', probe)
  sweepDeadRuns()
  return undefined
}

/**
 * Deletes the namespaces of runs of this test whose process is gone (killed before its afterAll),
 * so they never pile up. A name whose PID is alive, ours or not, is left alone.
 */
function sweepDeadRuns(): void {
  const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 })
  for (const line of listed.split('\n')) {
    const match = /^(gg-(\d+)-[a-z]+)\b/.exec(line)
    if (!match || isAlive(Number(match[2]))) continue
    try {
      ip('netns', 'del', match[1] as string)
    } catch {
      // Deleted meanwhile by someone else's sweep.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

/** Makes `names.length` hosts on one bridge; on failure deletes what it made and rethrows. */
export function createTopology(names: readonly string[]): Topology {
  const prefix = `gg-${process.pid}`
  const made: string[] = []
  const children = new Set<ChildProcess>()
  const hosts: Record<string, Host> = {}
  const topology: Topology = {
    hosts,
    spawn(host, argv, env) {
      const ns = hosts[host]?.ns
      if (!ns) throw new Error(`no host ${host}`)
      // `ip netns exec` execs the command: the child's PID is the program's own.
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      })
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    },
    async destroy() {
      await Promise.all([...children].map(endChild))
      for (const ns of made.splice(0).reverse()) {
        try {
          ip('netns', 'del', ns)
        } catch {
          // Already gone.
        }
      }
    },
  }
  try {
    const bridgeNs = `${prefix}-br`
    ip('netns', 'add', bridgeNs)
    made.push(bridgeNs)
    ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    ip('-n', bridgeNs, 'link', 'set', 'br0', 'up')
    names.forEach((name, i) => {
      const ns = `${prefix}-${name}`
      const address = `${SUBNET}.${i + 1}`
      ip('netns', 'add', ns)
      made.push(ns)
      // Interface names are per namespace; these are made directly in theirs.
      ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridgeNs)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      // Multicast leaves by the shared link (a socket that names no interface takes this route).
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      ip('-n', bridgeNs, 'link', 'set', `p${i}`, 'master', 'br0')
      ip('-n', bridgeNs, 'link', 'set', `p${i}`, 'up')
      hosts[name] = { ns, address }
    })
  } catch (err) {
    void topology.destroy()
    throw err
  }
  return topology
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the child has exited. */
function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
