/**
 * The test's own record of causal history, independent of the agent's code:
 * every acknowledged write (edit, delete, resolution) with the vector it was
 * given. Per uid, the versions no other recorded version descends from are
 * exactly what every agent that has seen them all must hold — the current
 * version plus its conflict siblings — so:
 *   - two of them are truly concurrent, and must show as a conflict;
 *   - a held pair that is not among them was not concurrent (a false conflict);
 *   - a recorded write that is neither held nor descended from is lost.
 * Vector order is recomputed here (pointwise ≥), not taken from protocol/.
 */

export type Vector = Readonly<Record<string, number>>

export interface Version {
  readonly uid: string
  readonly vector: Vector
  readonly data: unknown
  readonly deleted: boolean
}

export interface Holding {
  readonly current: Version
  readonly conflicts: readonly Version[]
}

/** Canonical text of a vector (entries > 0, sorted): equal vectors, equal keys. */
export function vectorKey (v: Vector): string {
  return Object.keys(v).filter((d) => (v[d] ?? 0) > 0).sort().map((d) => `${d}:${v[d]}`).join(',')
}

/** `a` descends from or equals `b`: every counter of `a` ≥ that of `b`. */
export function dominatesOrEquals (a: Vector, b: Vector): boolean {
  for (const [d, n] of Object.entries(b)) if ((a[d] ?? 0) < n) return false
  return true
}

export function isConcurrent (a: Vector, b: Vector): boolean {
  return !dominatesOrEquals(a, b) && !dominatesOrEquals(b, a)
}

interface Recorded extends Version {
  readonly writer: string
}

export class CausalOracle {
  readonly #versions = new Map<string, Map<string, Recorded>>()
  #writes = 0

  /** An acknowledged write by `writer`, with the vector the agent gave it. */
  record (writer: string, v: Version): void {
    const byVector = this.#versions.get(v.uid) ?? new Map<string, Recorded>()
    const key = vectorKey(v.vector)
    const known = byVector.get(key)
    if (known !== undefined && JSON.stringify([known.data, known.deleted]) !== JSON.stringify([v.data, v.deleted])) {
      throw new Error(`two different writes of ${v.uid} were given the same vector {${key}}`)
    }
    byVector.set(key, { uid: v.uid, vector: { ...v.vector }, data: v.data, deleted: v.deleted, writer })
    this.#versions.set(v.uid, byVector)
    this.#writes++
  }

  get writes (): number { return this.#writes }
  uids (): string[] { return [...this.#versions.keys()].sort() }

  /** The versions of `uid` that no recorded version descends from. */
  frontier (uid: string): Recorded[] {
    const all = [...(this.#versions.get(uid)?.values() ?? [])]
    return all.filter((v) => !all.some((w) => w !== v && dominatesOrEquals(w.vector, v.vector)))
  }

  /** Pairs of truly concurrent versions in the frontiers (what must show as conflicts). */
  concurrentPairs (): number {
    let pairs = 0
    for (const uid of this.#versions.keys()) {
      const n = this.frontier(uid).length
      pairs += (n * (n - 1)) / 2
    }
    return pairs
  }

  /**
   * What is wrong with `agent`'s holdings, given that it has seen everything
   * (after convergence): [] when it holds exactly every frontier, no more, with
   * the recorded contents, and keeps its own surviving write as current.
   */
  check (agent: string, held: ReadonlyMap<string, Holding>): string[] {
    const problems: string[] = []
    for (const uid of held.keys()) if (!this.#versions.has(uid)) problems.push(`${agent}: holds ${uid}, which nobody wrote`)
    for (const uid of this.#versions.keys()) {
      const expected = this.frontier(uid)
      const holding = held.get(uid)
      if (holding === undefined) {
        problems.push(`${agent}: lost ${uid} (expected {${expected.map((e) => vectorKey(e.vector)).join('} {')}})`)
        continue
      }
      const versions = [holding.current, ...holding.conflicts]
      const heldKeys = versions.map((v) => vectorKey(v.vector)).sort()
      const expectedKeys = expected.map((v) => vectorKey(v.vector)).sort()
      if (JSON.stringify(heldKeys) !== JSON.stringify(expectedKeys)) {
        const missing = expectedKeys.filter((k) => !heldKeys.includes(k))
        const extra = heldKeys.filter((k) => !expectedKeys.includes(k))
        problems.push(`${agent}: ${uid} holds {${heldKeys.join('} {')}} but the history says {${expectedKeys.join('} {')}}` +
          `${missing.length > 0 ? `; missing (lost or not flagged): {${missing.join('} {')}}` : ''}${extra.length > 0 ? `; not in the frontier (a false conflict or a phantom): {${extra.join('} {')}}` : ''}`)
        continue
      }
      for (const v of versions) {
        const rec = expected.find((e) => vectorKey(e.vector) === vectorKey(v.vector))!
        if (JSON.stringify([v.data, v.deleted]) !== JSON.stringify([rec.data, rec.deleted])) problems.push(`${agent}: ${uid} {${vectorKey(v.vector)}} holds other contents than were written`)
      }
      const own = expected.find((e) => e.writer === agent)
      if (own !== undefined && expected.length > 1 && vectorKey(holding.current.vector) !== vectorKey(own.vector)) {
        problems.push(`${agent}: ${uid} shows {${vectorKey(holding.current.vector)}} as current, not its own concurrent write {${vectorKey(own.vector)}}`)
      }
    }
    return problems
  }
}
