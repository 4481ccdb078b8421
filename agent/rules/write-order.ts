/**
 * The order a set of versions can be written in (pure): levels of indexes,
 * each level only after the ones before it — an object after its parent,
 * after the objects it references, and after what `hard` names (what the
 * instance cannot create it without, references or not), as far as they are
 * in the set. A reference cycle is broken where it is, not by letting
 * everything that waits go at once: the cycle that nothing else left waits
 * for (the first strongly connected component of what remains) is written
 * next, those of its members whose hard dependencies are there first; their
 * soft references to each other are set afterwards (create-then-patch).
 * When even the hard ones make a cycle, its first member goes next.
 */
import type { ObjectVersion } from '../../protocol/object.js'

export function writeLevels (versions: readonly ObjectVersion[], hard: (v: ObjectVersion) => readonly string[] = () => []): number[][] {
  const index = new Map(versions.map((v, i) => [v.uid, i]))
  const within = (uids: readonly string[], self: number): number[] => [...new Set(uids.map((u) => index.get(u)).filter((j): j is number => j !== undefined && j !== self))]
  const hardDeps = versions.map((v, i) => within([...(v.parent !== null ? [v.parent] : []), ...hard(v)], i))
  const allDeps = versions.map((v, i) => [...new Set([...hardDeps[i]!, ...within(v.refs, i)])])
  const done = new Set<number>()
  const levels: number[][] = []
  let remaining = versions.map((_, i) => i)
  while (remaining.length > 0) {
    let level = remaining.filter((i) => allDeps[i]!.every((j) => done.has(j)))
    if (level.length === 0) {
      const cycle = firstComponent(remaining, allDeps, done)
      level = cycle.filter((i) => hardDeps[i]!.every((j) => done.has(j)))
      if (level.length === 0) level = [cycle[0]!]
    }
    for (const i of level) done.add(i)
    levels.push(level)
    const set = new Set(level)
    remaining = remaining.filter((i) => !set.has(i))
  }
  return levels
}

/**
 * Among `remaining` (a graph by `deps`, edges into `done` ignored), a
 * strongly connected component that depends on no other remaining one: the
 * cycle to break next. Tarjan's algorithm, iterative, members in index order.
 */
function firstComponent (remaining: readonly number[], deps: readonly number[][], done: ReadonlySet<number>): number[] {
  const live = new Set(remaining)
  const order = new Map<number, number>()
  const low = new Map<number, number>()
  const stack: number[] = []
  const onStack = new Set<number>()
  const components: number[][] = []
  let counter = 0
  for (const root of remaining) {
    if (order.has(root)) continue
    const frames: Array<{ node: number, next: number }> = [{ node: root, next: 0 }]
    order.set(root, counter); low.set(root, counter); counter++
    stack.push(root); onStack.add(root)
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!
      const edges = deps[frame.node]!.filter((j) => live.has(j) && !done.has(j))
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!
        if (!order.has(to)) {
          order.set(to, counter); low.set(to, counter); counter++
          stack.push(to); onStack.add(to)
          frames.push({ node: to, next: 0 })
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, order.get(to)!))
        }
        continue
      }
      frames.pop()
      const parent = frames[frames.length - 1]
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === order.get(frame.node)) {
        const component: number[] = []
        let member: number
        do { member = stack.pop()!; onStack.delete(member); component.push(member) } while (member !== frame.node)
        components.push(component.sort((a, b) => a - b))
      }
    }
  }
  // Tarjan emits a component only after every component it depends on: the first one depends on none left
  return components[0]!
}
