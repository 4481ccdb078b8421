/**
 * The order a set of versions can be written in (pure): levels of indexes,
 * each level only after the ones before it — an object after its parent,
 * after the objects it references, and after what `hard` names (what the
 * instance cannot create it without, references or not), as far as they are
 * in the set. In a reference cycle only the hard dependencies decide; the
 * soft ones are set afterwards (create-then-patch). When even the hard ones
 * make a cycle, the first version left goes next.
 */
import type { ObjectVersion } from '../../protocol/object.js'

export function writeLevels (versions: readonly ObjectVersion[], hard: (v: ObjectVersion) => readonly string[] = () => []): number[][] {
  const inSet = new Set(versions.map((v) => v.uid))
  const deps = (i: number, all: boolean): string[] => {
    const v = versions[i]!
    const wanted = [...(v.parent !== null ? [v.parent] : []), ...hard(v), ...(all ? v.refs : [])]
    return wanted.filter((u) => inSet.has(u) && u !== v.uid)
  }
  const done = new Set<string>()
  const levels: number[][] = []
  let remaining = versions.map((_, i) => i)
  while (remaining.length > 0) {
    let level = remaining.filter((i) => deps(i, true).every((u) => done.has(u)))
    if (level.length === 0) level = remaining.filter((i) => deps(i, false).every((u) => done.has(u)))
    if (level.length === 0) level = [remaining[0]!]
    for (const i of level) done.add(versions[i]!.uid)
    levels.push(level)
    const set = new Set(level)
    remaining = remaining.filter((i) => !set.has(i))
  }
  return levels
}
