/**
 * Push credit (agent/sync/push-credit.ts): what a server may push and a
 * puller must accept. Spent per answer, freed by acks of a seq, and never
 * more than the credit outstanding — the bound a slow puller relies on.
 */
import { describe, expect, it } from 'vitest'
import { PushCredit } from '../../agent/sync/push-credit.js'

describe('push credit', () => {
  it('spends one unit per answer and refuses past the credit', () => {
    const c = new PushCredit(3)
    expect([c.spend(4), c.spend(9), c.spend(12)]).toEqual([true, true, true])
    expect(c.available).toBe(false)
    expect(c.spend(15)).toBe(false)
    expect(c.outstanding).toBe(3)
  })

  it('frees the answers that ended at or before an acked seq, and only those', () => {
    const c = new PushCredit(4)
    for (const seq of [4, 9, 12, 20]) c.spend(seq)
    c.ack(3)
    expect(c.outstanding).toBe(4)
    c.ack(9)
    expect(c.outstanding).toBe(2)
    c.ack(11)
    expect(c.outstanding).toBe(2)
    c.ack(100)
    expect(c.outstanding).toBe(0)
    expect(c.available).toBe(true)
  })

  it('an old ack frees nothing new (acks may arrive late)', () => {
    const c = new PushCredit(2)
    c.spend(10)
    c.ack(10)
    c.spend(14)
    c.ack(10)
    expect(c.outstanding).toBe(1)
  })

  it('a server that learns of acks late never counts fewer outstanding than the puller', () => {
    // the puller acks as it applies; the server sees each ack some answers later
    const server = new PushCredit(8)
    const puller = new PushCredit(8)
    const acksInFlight: number[] = []
    let seq = 0
    for (let step = 0; step < 200; step++) {
      if (server.available) {
        seq += 1 + (step % 3)
        server.spend(seq)
        expect(puller.spend(seq)).toBe(true)
      }
      if (step % 4 === 3) { puller.ack(seq - 2); acksInFlight.push(seq - 2) }
      if (step % 7 === 6) for (const a of acksInFlight.splice(0)) server.ack(a)
      expect(server.outstanding).toBeGreaterThanOrEqual(puller.outstanding)
    }
  })

  it('refuses a credit that is not a positive integer', () => {
    expect(() => new PushCredit(0)).toThrow(RangeError)
    expect(() => new PushCredit(1.5)).toThrow(RangeError)
  })
})
