/**
 * What a pull holds (agent/sync/pull-pipeline.ts): objects received and
 * waiting to be applied plus objects asked for never exceed the window,
 * however slow applying is next to the remote — and every position is still
 * applied once, in order, with each batch starting where the one before it
 * ended. The remote here is a feed in the test that answers each pull with
 * batches of BATCH objects as the real server does (window → batches, the
 * last one marked), faster than the puller applies them.
 */
import { describe, expect, it } from 'vitest'
import { PullPipeline, MIN_REQUEST_OBJECTS, type PipelineSession } from '../../agent/sync/pull-pipeline.js'
import { PullProgress } from '../../agent/sync/progress.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import type { ApplyStats } from '../../agent/apply/apply-remote.js'
import type { BatchMessage, HelloMessage, PullMessage } from '../../protocol/messages.js'
import type { WireObject } from '../../protocol/object.js'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface Run { requests: PullMessage[], maxHeld: number, heldAtRequest: number[], applied: Array<{ first: number, last: number }>, since: number }

/** Pull `feed` objects in batches of `batch` with `window`; applying a batch takes `applyMs`. */
async function pullThrough (feed: number, batch: number, window: number, applyMs: number): Promise<Run> {
  const run: Run = { requests: [], maxHeld: 0, heldAtRequest: [], applied: [], since: 0 }
  let delivered = 0 // objects handed to the pipeline by the "network"
  let taken = 0 // objects handed to apply
  let pipeline!: PullPipeline
  const held = (): number => delivered - taken
  const serve = async (pull: PullMessage): Promise<void> => {
    let seq = pull.since
    let sent = 0
    while (sent < pull.limit && seq < feed) {
      await sleep(0)
      const n = Math.min(batch, pull.limit - sent, feed - seq)
      const changes = Array.from({ length: n }, (_, i) => ({ uid: `o${seq + i + 1}` }) as unknown as WireObject)
      seq += n
      sent += n
      const last = sent >= pull.limit || seq >= feed
      const message: BatchMessage = { type: 'batch', v: 1, id: pull.id, changes, lastSeq: seq, last, more: seq < feed, remaining: feed - seq }
      delivered += n
      run.maxHeld = Math.max(run.maxHeld, held())
      pipeline.received(message, feed)
    }
  }
  let ids = 0
  const session: PipelineSession = {
    version: 1,
    nextRequestId: () => ++ids,
    send: async (message) => {
      run.requests.push(message)
      run.heldAtRequest.push(held())
      void serve(message)
    },
    apply: async (changes, next, onPrepared): Promise<ApplyStats> => {
      taken += changes.length
      const first = Number((changes[0] as unknown as { uid: string }).uid.slice(1))
      run.applied.push({ first, last: next.seq })
      onPrepared()
      await sleep(applyMs)
      return { received: changes.length } as unknown as ApplyStats
    },
    remoteHead: () => feed,
    fail: (err) => { throw err }
  }
  pipeline = new PullPipeline({ peerName: 'remote', window, progress: new PullProgress(() => performance.now()), log: silentLogger(), now: () => performance.now() }, session)
  const hello = { type: 'hello', v: 1, domain: 'remote', head: feed, count: feed, epoch: 'e1' } as unknown as HelloMessage
  const result = await pipeline.pull(0, hello)
  run.since = result.since
  return run
}

function expectExactlyOnce (run: Run, feed: number): void {
  let at = 0
  for (const b of run.applied) {
    expect(b.first).toBe(at + 1)
    at = b.last
  }
  expect(at).toBe(feed)
  expect(run.since).toBe(feed)
}

describe('pull pipeline: what a pull holds', () => {
  it('never holds more than the window, received or asked for, when applying is the slow side', async () => {
    const window = 2000
    const run = await pullThrough(12_000, 250, window, 3)
    expectExactlyOnce(run, 12_000)
    // the request's limit plus what was queued when it was sent
    for (const [i, r] of run.requests.entries()) expect(run.heldAtRequest[i]! + r.limit).toBeLessThanOrEqual(window)
    expect(run.maxHeld).toBeLessThanOrEqual(window)
    // it kept asking ahead (more than one request per window's worth), not waiting for an empty queue
    expect(run.requests.length).toBeGreaterThan(12_000 / window)
    expect(run.requests.every((r) => r.limit >= Math.min(MIN_REQUEST_OBJECTS, window))).toBe(true)
  })

  it('asks for whole windows when applying keeps up', async () => {
    const run = await pullThrough(6000, 500, 2000, 0)
    expectExactlyOnce(run, 6000)
    expect(run.requests[0]!.limit).toBe(2000)
    expect(run.maxHeld).toBeLessThanOrEqual(2000)
  })

  it('a window smaller than one batch still advances', async () => {
    const run = await pullThrough(1000, 500, 100, 1)
    expectExactlyOnce(run, 1000)
    expect(run.requests.every((r) => r.limit <= 100)).toBe(true)
  })
})
