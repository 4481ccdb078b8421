/**
 * Whether two versions of one uid that carry EQUAL vectors are the same
 * version, or two different writes that reused one counter (a restored
 * agent editing an object whose later version the restore lost:
 * docs/architecture/backup-restore.md, "Version counters reused").
 * reconcile keeps two such versions as conflict siblings, so the divergence
 * is shown and resolved like any conflict instead of each agent silently
 * keeping what it had. Pure: no I/O, no clock.
 *
 * Invariant: two honest copies of one version are always the same here,
 * whatever path they took. What may legitimately differ between copies, and
 * is therefore NOT compared:
 * - the presented `id` (prefix / localPrefix rules rewrite it in transit;
 *   the signer's id travels in `sig.id`, inside the content hash);
 * - the signature's group fields (`sig`, `i`, `n`, `p`): the versions of one
 *   transaction are signed together, and only the content hash `sig.h` is a
 *   property of the version itself;
 * - store-local fields (`via`, `viaEpoch`, `seq`, `conflictVia`);
 * - the key order and spelling of `data` (stored canonical here, received
 *   in the sender's order there).
 * What every copy carries unchanged, and IS compared: `deleted`, `at`,
 * `origin` (all three signed in the leaf), and the content — `sig.h` when
 * both are signed, else type, parent, refs and data compared as canonical
 * JSON. Nothing rewrites a version's content while keeping its vector: a
 * rule's rewrite is of `id` only, an instance's echo is not recorded, and a
 * merge or a resolution is a new version with a new vector.
 *
 * `at` makes two writes with identical content but made at different times
 * different versions: they are (each is signed), and the anti-entropy
 * digest hashes `at`, so treating them as one would leave two agents
 * whose digests never agree.
 */
import { canonicalJson } from './canonical.js'
import type { ObjectVersion } from './object.js'

/** `a` and `b` (whose vectors are equal) are one version. */
export function sameVersion (a: ObjectVersion, b: ObjectVersion): boolean {
  if (a === b) return true
  if (a.deleted !== b.deleted || a.at !== b.at || a.origin !== b.origin) return false
  // both signed: the signer's content hash is the version's content (the
  // provenance check made sure, on apply, that the content hashes to it)
  if (a.sig !== undefined && b.sig !== undefined) return a.sig.h === b.sig.h
  return sameContent(a, b)
}

/**
 * Type, parent, refs and data alike (id aside: unsigned versions carry no
 * signed id, and a prefix rule may have rewritten the presented one).
 */
function sameContent (a: ObjectVersion, b: ObjectVersion): boolean {
  if (a.type !== b.type || a.parent !== b.parent) return false
  if (a.refs.length !== b.refs.length || a.refs.some((r, i) => r !== b.refs[i])) return false
  if (a.data === b.data) return true
  // the same key order (the usual case) spares the canonical walk
  const plainA = JSON.stringify(a.data)
  const plainB = JSON.stringify(b.data)
  return plainA === plainB || canonicalJson(a.data) === canonicalJson(b.data)
}
