/**
 * PullProgress: percentage, pending count and ETA are honest — 100 % only
 * when the head heard in hello or notify is applied.
 */
import { describe, expect, it } from 'vitest'
import { formatProgress, PullProgress } from '../../agent/sync/progress.js'

describe('PullProgress', () => {
  const clock = (): { now: () => number, advance: (ms: number) => void } => {
    let t = 1_000_000
    return { now: () => t, advance: (ms) => { t += ms } }
  }

  it('knows nothing before the first hello, even with a checkpoint', () => {
    const p = new PullProgress(clock().now)
    p.restore(500)
    expect(p.snapshot()).toMatchObject({ state: 'idle', percent: 0, caughtUp: false, remoteHead: undefined, appliedSeq: 500, remaining: 0 })
  })

  it('counts from the hello, takes the remote\'s exact count at each batch, and reaches 100 % only at its head', () => {
    const c = clock()
    const p = new PullProgress(c.now)
    p.connected(1000, 200)
    expect(p.snapshot()).toMatchObject({ remaining: 800, percent: 0, caughtUp: false })
    p.begin(false)
    c.advance(1000)
    // the remote says 300 objects remain after seq 600 (fewer than 400 positions: some objects moved on)
    p.batch(250, 300, true, 600, 1000)
    let s = p.snapshot()
    expect(s).toMatchObject({ state: 'pulling', done: 250, remaining: 300, rate: 250, etaSeconds: 2, caughtUp: false })
    expect(s.percent).toBeCloseTo(45.4, 1)
    expect(formatProgress(s)).toBe('pulled 250 / 550 (45%), ETA 2 s')
    c.advance(1000)
    // the last batch arrives; then, before it is applied, a notify: 20 more positions, at most 20 more objects
    p.heard(1020)
    p.batch(300, 0, false, 1000, 1000)
    s = p.snapshot()
    // the last batch left nothing after 1000, but the remote announced 1020: not done
    expect(s).toMatchObject({ remaining: 20, caughtUp: false })
    expect(s.percent).toBeLessThan(100)
    p.batch(20, 0, false, 1020, 1020)
    p.end()
    s = p.snapshot()
    expect(s).toMatchObject({ state: 'idle', remaining: 0, percent: 100, etaSeconds: 0, caughtUp: true, appliedSeq: 1020, remoteHead: 1020 })
  })

  it('drops below 100 % when the remote announces a newer head, until it is applied', () => {
    const p = new PullProgress(clock().now)
    p.connected(10, 10)
    expect(p.snapshot()).toMatchObject({ percent: 100, caughtUp: true })
    p.heard(15)
    expect(p.snapshot()).toMatchObject({ remaining: 5, caughtUp: false, percent: 0 })
  })

  it('never reports 0 remaining while the remote says there is more, or below a head it announced', () => {
    const p = new PullProgress(clock().now)
    p.connected(100, 0)
    p.begin(true)
    p.batch(100, 0, true, 100, 100)
    expect(p.snapshot()).toMatchObject({ remaining: 1, caughtUp: false })
    expect(p.snapshot().percent).toBeLessThan(100)
    // a notify for 120 came in before a batch that claims nothing after 110: 10 positions still count
    p.heard(120)
    p.batch(10, 0, false, 110, 120)
    expect(p.snapshot()).toMatchObject({ remaining: 10, caughtUp: false })
  })

  it('formats like the log line of a long pull', () => {
    expect(formatProgress({ state: 'pulling', initial: true, done: 12_000, remaining: 38_000, percent: 24, rate: 1700, etaSeconds: 7, startedAt: 0, finishedAt: undefined, remoteHead: 50_000, appliedSeq: 12_000, caughtUp: false }))
      .toBe('pulled 12,000 / 50,000 (24%), ETA 7 s')
  })
})
