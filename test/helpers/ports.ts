/**
 * Ports for test configs that must name them before anything listens.
 *
 * Why reservations: a port checked free is only free until something binds
 * it, and the node it is meant for binds it later (often in a child
 * process). Several test processes run at once — vitest's two workers, and
 * on a shared machine other engineers' suites — so a port one of them has
 * checked but not yet bound looked free to the others, and two nodes got
 * the same port now and then. Each port handed out is therefore also
 * reserved machine-wide: a file named after it, created exclusively, in a
 * directory under the system's temp dir, holding the reserving pid. A
 * reservation is honoured while its process lives and removed when it
 * exits; one left by a killed process is cleared by whoever meets it.
 *
 * Ports come from 20000–31999, below the kernel's ephemeral range (where
 * port-0 binds land), starting at a random point so concurrent processes
 * spread out.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const FIRST_PORT = 20_000
const PORT_COUNT = 12_000
const MAX_ATTEMPTS = 500

export interface PortReservations {
  /** a port reserved for this process and free on 127.0.0.1 right now */
  take (): Promise<number>
  /** drop this process's reservations (at exit; idempotent) */
  releaseAll (): void
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function bindable (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

export interface PortReservationOptions {
  /** where reservations live (one directory for every test process of the machine) */
  readonly dir?: string
  /** the pid written into reservations (tests of this module only) */
  readonly pid?: number
  /** the first port tried (default: a random one) */
  readonly start?: number
}

export function createPortReservations (options: PortReservationOptions = {}): PortReservations {
  const dir = options.dir ?? join(tmpdir(), 'labmesh-test-ports')
  const pid = options.pid ?? process.pid
  const held = new Set<number>()
  let next = options.start ?? FIRST_PORT + Math.floor(Math.random() * PORT_COUNT)
  mkdirSync(dir, { recursive: true })

  /** true when this process now holds `port`'s reservation */
  function reserve (port: number): boolean {
    const file = join(dir, String(port))
    try {
      writeFileSync(file, String(pid), { flag: 'wx' })
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = 0
    try { owner = Number(readFileSync(file, 'utf8')) } catch { return false }
    // a reservation whose process is gone: clear it, but do not take the port
    // this time (another process may be clearing it too)
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== pid && !processAlive(owner)) rmSync(file, { force: true })
    return false
  }

  return {
    async take () {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const port = next
        next = FIRST_PORT + ((next - FIRST_PORT + 1) % PORT_COUNT)
        if (held.has(port) || !reserve(port)) continue
        if (await bindable(port)) {
          held.add(port)
          return port
        }
        unlinkSync(join(dir, String(port)))
      }
      throw new Error(`no free port for a test node after ${MAX_ATTEMPTS} tries in ${FIRST_PORT}–${FIRST_PORT + PORT_COUNT - 1} (reservations in ${dir})`)
    },
    releaseAll () {
      for (const port of held) rmSync(join(dir, String(port)), { force: true })
      held.clear()
    }
  }
}
