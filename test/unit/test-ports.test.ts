/**
 * The tests' port reservations (test/helpers/ports.ts): two processes never
 * get the same port, a port something listens on is skipped, and a dead
 * process's reservation is cleared.
 */
import { spawn } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPortReservations } from '../helpers/ports.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

let dir: string
beforeEach(async () => { dir = await makeTempDir('labmesh-ports-') })
afterEach(async () => { await removeDir(dir) })

async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

describe('test port reservations', () => {
  it('never hands one port to two processes starting at the same point', async () => {
    // the other "process" is our parent: alive for the whole test
    const mine = createPortReservations({ dir, start: 24_000 })
    const theirs = createPortReservations({ dir, pid: process.ppid, start: 24_000 })
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < 40; i++) {
      a.push(await mine.take())
      b.push(await theirs.take())
    }
    expect(new Set([...a, ...b]).size).toBe(80)
    expect(readdirSync(dir)).toHaveLength(80)
    mine.releaseAll()
    expect(readdirSync(dir).map(Number).sort()).toEqual([...b].sort())
  })

  it('skips a port something already listens on', async () => {
    const server: Server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const busy = (server.address() as { port: number }).port
    try {
      const book = createPortReservations({ dir, start: busy })
      const port = await book.take()
      expect(port).not.toBe(busy)
      expect(readdirSync(dir)).toEqual([String(port)])
    } finally {
      server.close()
    }
  })

  it('clears the reservation of a process that has exited, and takes the port on a later pass', async () => {
    writeFileSync(`${dir}/25000`, String(await deadPid()))
    writeFileSync(`${dir}/25001`, String(process.ppid))
    const book = createPortReservations({ dir, start: 25_000 })
    expect(await book.take()).toBe(25_002)
    expect(readdirSync(dir).sort()).toEqual(['25001', '25002'])
    const again = createPortReservations({ dir, start: 25_000 })
    expect(await again.take()).toBe(25_000)
  })
})
