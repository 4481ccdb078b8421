/**
 * A small seeded PRNG for generated demo and benchmark data: sfc32 seeded
 * through splitmix32, so a seed (number, or string hashed with FNV-1a) always
 * gives the same sequence on every platform. Never Math.random: generated
 * data sets must be reproducible.
 */

export interface Rng {
  /** uniform in [0, 1) */
  next: () => number
  /** uniform integer in [0, n) */
  int: (n: number) => number
  /** uniform integer in [min, max] */
  between: (min: number, max: number) => number
  pick: <T>(items: readonly T[]) => T
  chance: (p: number) => boolean
}

export function createRng (seed: number | string): Rng {
  let s = typeof seed === 'number' ? seed >>> 0 : hash32(seed)
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix(); let b = splitmix(); let c = splitmix(); let d = splitmix()
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list')
      return items[int(items.length)] as (typeof items)[number]
    },
    chance: (p) => next() < p
  }
}

function hash32 (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}
