/**
 * The pure parts of the benchmark helpers: flag parsing, the RSS peak
 * bookkeeping (with an injected RSS reader and clock) and bulk framing.
 */
import { describe, expect, it } from 'vitest'
import { BenchArgsError, parseBenchArgs } from '../../bench/lib/args.js'
import { createFrameReader, encodeFrames } from '../../bench/lib/frames.js'
import { createRssSampler } from '../../bench/lib/rss.js'

describe('parseBenchArgs', () => {
  const defaults = { objects: 50_000, seed: 1, dir: '', keep: false, batchSize: 100 }

  it('keeps defaults and parses each kind', () => {
    expect(parseBenchArgs([], defaults)).toEqual(defaults)
    expect(parseBenchArgs(['--objects', '1e6', '--seed=7', '--dir', '/tmp/x', '--keep', '--batch-size', '1_000'], defaults))
      .toEqual({ objects: 1_000_000, seed: 7, dir: '/tmp/x', keep: true, batchSize: 1000 })
    expect(parseBenchArgs(['--keep', '--no-keep'], defaults).keep).toBe(false)
  })

  it('refuses unknown flags, bad numbers and missing values', () => {
    expect(() => parseBenchArgs(['--object', '5'], defaults)).toThrow(BenchArgsError)
    expect(() => parseBenchArgs(['--objects', 'many'], defaults)).toThrow(BenchArgsError)
    expect(() => parseBenchArgs(['--objects'], defaults)).toThrow(BenchArgsError)
    expect(() => parseBenchArgs(['objects'], defaults)).toThrow(BenchArgsError)
  })
})

describe('createRssSampler', () => {
  it('keeps the peak per phase and the largest sampling gap', () => {
    let rss = 100
    let t = 0
    const sampler = createRssSampler({ readRss: () => rss, now: () => t })
    sampler.reset()
    rss = 300; t = 50; sampler.report()
    rss = 200; t = 400
    const first = sampler.report()
    expect(first.peakBytes).toBe(300)
    expect(first.maxGapMs).toBe(350)
    sampler.reset()
    expect(sampler.report().peakBytes).toBe(200)
  })
})

describe('encodeFrames / createFrameReader', () => {
  it('round-trips coalesced messages across arbitrary chunk boundaries', () => {
    const payloads = Array.from({ length: 300 }, (_, i) => new TextEncoder().encode('x'.repeat(i * 7 % 2000) + String(i)))
    const wire = encodeFrames(payloads)
    const read = createFrameReader(1 << 20)
    const out: string[] = []
    // uneven chunks, one far larger than the reader's slice size
    for (const [a, b] of [[0, 1], [1, 130], [130, 200_000], [200_000, wire.byteLength]] as const) {
      for (const m of read(wire.subarray(a, Math.min(b, wire.byteLength)))) out.push(new TextDecoder().decode(m.subarray()))
    }
    expect(out).toEqual(payloads.map((p) => new TextDecoder().decode(p)))
  })

  it('refuses a message over the limit', () => {
    const read = createFrameReader(100)
    expect(() => [...read(encodeFrames([new Uint8Array(101)]))]).toThrow()
  })
})
