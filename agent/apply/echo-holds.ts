/**
 * The echo-loop guard around the pure decision (echo-guard.ts): what it
 * remembers per object, the holds it keeps in the store, and what it tells
 * an admin (a logged error naming the object and the bouncing fields with
 * what was written and what the instance made of it, events, counts).
 *
 * Invariants:
 * - A hold is a row of the aux space `agent:echo-hold`, staged in the very
 *   transaction of the instance edit it holds (or of the edit that releases
 *   it), so a restart keeps holding what was held and nothing else.
 * - What the guard remembers changes only after that transaction committed
 *   (`settle`); the decision itself is made inside it, on the object's
 *   current version as that transaction reads it.
 * - Memory is bounded: objects with neither hold nor learned fields are
 *   forgotten once their last recorded edit is older than a round trip, and
 *   beyond MAX_RECENT of them the oldest go first. Writes into the instance
 *   are noted only for objects the guard already remembers, so an initial
 *   sync costs it nothing.
 */
import { compare } from '../../protocol/version-vector.js'
import { AGENT_AUX_SPACES } from '../../store/keys.js'
import type { StoredObject, Store, WriteTx } from '../../store/types.js'
import { NotFoundError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import type { ConnectorRow, LocalChange } from '../connectors/connector.js'
import { afterAdminRelease, afterRecord, afterWrite, contentFields, decideEcho, digestFields, type EchoDecision, type EchoGuardOptions, type EchoMemory, type FieldDigests, type Hold, type Signature } from './echo-guard.js'

/** the aux space of holds: mesh uid → EchoHoldRow (store/keys.ts) */
export const ECHO_HOLD_SPACE = AGENT_AUX_SPACES.echoHolds

/** objects remembered without a hold, at most */
const MAX_RECENT = 20_000
/** characters of a value shown in a log line or the status */
const VALUE_CHARS = 160

/** One bouncing field: the value the agent wrote into the instance, and what the instance reported back. */
export interface EchoDiffLine { readonly field: string, readonly written: string, readonly reported: string }

/** A held object, as stored and as the status shows it. */
export interface EchoHoldRow {
  readonly uid: string
  readonly type: string
  readonly id: string
  /** the peer whose version the instance kept changing */
  readonly peer: string
  readonly hold: Hold
  readonly diff: readonly EchoDiffLine[]
}

/** A held object in GET /api/status and GET /api/echo-loops. */
export interface EchoHoldView {
  readonly uid: string
  readonly type: string
  readonly id: string
  readonly peer: string
  /** the fields the instance keeps changing */
  readonly fields: readonly string[]
  /** the fields that came back changed from the peer */
  readonly back: readonly string[]
  readonly since: number
  readonly bounces: number
  readonly resumed: boolean
  readonly diff: readonly EchoDiffLine[]
  /** an instance edit is held (an admin's release records it); false after a restart, until the instance reports one again */
  readonly editHeld: boolean
}

export interface EchoGuardEvent {
  readonly uid: string
  readonly type: string
  readonly id: string
  /** held: a loop was found (new, or resumed by learned fields); released: a person's edit or an admin ended it */
  readonly action: 'held' | 'released'
  /** objects held now */
  readonly held: number
}

export interface EchoGuardDeps {
  readonly store: Store
  readonly log: Logger
  readonly now: () => number
  readonly options: EchoGuardOptions
  readonly onEvent?: (event: EchoGuardEvent) => void
}

/** The decision on one instance edit, made inside its transaction, settled after it committed. */
export interface EchoJudgement {
  readonly decision: EchoDecision
  readonly change: LocalChange
  readonly rows: readonly ConnectorRow[]
  readonly reported: FieldDigests
  readonly row: EchoHoldRow | undefined
  readonly now: number
}

export interface EchoLoopGuard {
  /** read the holds kept in the store (at start) */
  load (): Promise<void>
  /** inside the instance edit's transaction: decide, and stage the hold row's change */
  judge (tx: WriteTx, change: LocalChange, rows: readonly ConnectorRow[], current: StoredObject | undefined): EchoJudgement
  /** after that transaction committed; `stored` is the version recorded, if any */
  settle (judgement: EchoJudgement, stored: StoredObject | undefined): void
  /** whether it remembers any object at all (else a write into the instance is nothing to it) */
  readonly remembersAny: boolean
  /** the agent wrote versions of these objects into the instance just now */
  noteWritten (uids: readonly string[]): void
  /** inside an admin release's transaction: the held edit to record (undefined: none, or stale), and the hold row's deletion staged */
  stageRelease (tx: WriteTx, uid: string, current: StoredObject | undefined): { change: LocalChange, rows: readonly ConnectorRow[] } | undefined
  /** after the release committed */
  settleRelease (uid: string, recorded: StoredObject | undefined): void
  /** every held object, oldest hold first */
  holds (): EchoHoldView[]
  readonly held: number
  /** loops found since start (each hold that was news) */
  readonly loopsFound: number
}

export function createEchoGuard (deps: EchoGuardDeps): EchoLoopGuard {
  return new EchoGuard(deps)
}

class EchoGuard implements EchoLoopGuard {
  readonly #deps: EchoGuardDeps
  /** objects with a hold or learned fields: never forgotten */
  readonly #pinned = new Map<string, EchoMemory>()
  /** the others, least recently touched first */
  readonly #recent = new Map<string, { memory: EchoMemory, touched: number }>()
  readonly #rows = new Map<string, EchoHoldRow>()
  readonly #heldEdits = new Map<string, { change: LocalChange, rows: readonly ConnectorRow[] }>()
  #loopsFound = 0

  constructor (deps: EchoGuardDeps) {
    this.#deps = deps
  }

  get held (): number { return this.#rows.size }
  get remembersAny (): boolean { return this.#pinned.size > 0 || this.#recent.size > 0 }
  get loopsFound (): number { return this.#loopsFound }

  async load (): Promise<void> {
    for await (const [uid, row] of this.#deps.store.iterateAux<EchoHoldRow>(ECHO_HOLD_SPACE)) {
      this.#rows.set(uid, row)
      this.#pinned.set(uid, { hold: row.hold, learned: row.hold.signature })
    }
    if (this.#rows.size > 0) this.#deps.log.warn({ held: this.#rows.size, uids: [...this.#rows.keys()].slice(0, 20) }, `${this.#rows.size} object(s) held by the echo-loop guard since before this start (GET /api/echo-loops)`)
  }

  judge (tx: WriteTx, change: LocalChange, changeRows: readonly ConnectorRow[], current: StoredObject | undefined): EchoJudgement {
    const now = this.#deps.now()
    const reported = digestFields(change)
    const decision = decideEcho(this.#memoryOf(change.uid) ?? {}, {
      now,
      current: current === undefined ? undefined : { vector: current.vector, via: current.via, fields: digestFields(current) },
      reported,
      deleted: change.deleted
    }, this.#deps.options)
    let row: EchoHoldRow | undefined
    if (decision.action === 'hold') {
      row = holdRow(change, current!, decision.memory.hold!)
      tx.putAux(ECHO_HOLD_SPACE, change.uid, row)
    } else if (decision.action === 'record' && decision.released !== undefined) {
      tx.deleteAux(ECHO_HOLD_SPACE, change.uid)
    }
    return { decision, change, rows: changeRows, reported, row, now }
  }

  settle (j: EchoJudgement, stored: StoredObject | undefined): void {
    const { decision, change } = j
    if (decision.action === 'ignore') return
    if (decision.action === 'hold') {
      this.#remember(change.uid, decision.memory, j.now)
      this.#settleHold(j, decision.event)
      return
    }
    this.#remember(change.uid, stored !== undefined ? afterRecord(decision.memory, stored.vector, j.reported, j.now) : decision.memory, j.now)
    if (decision.released === undefined) return
    const row = this.#rows.get(change.uid)
    this.#forget(change.uid)
    const { cause, fields } = decision.released
    this.#deps.log.warn({ uid: change.uid, type: change.type, id: change.id, cause, fields },
      `echo loop released: ${change.type} ${change.id} (${change.uid}) was edited in the instance (${fields.join(', ')}${cause === 'edited-unprompted' ? ', not as an echo of a write' : ''}); the edit is recorded and sent out${row !== undefined && decision.memory.learned !== undefined ? `; should ${row.hold.signature.echo.join(', ')} bounce again it is held at once` : ''}`)
    this.#emit(change, 'released')
  }

  noteWritten (uids: readonly string[]): void {
    const now = this.#deps.now()
    for (const uid of uids) {
      const memory = this.#memoryOf(uid)
      if (memory !== undefined) this.#remember(uid, afterWrite(memory, now), now)
    }
  }

  stageRelease (tx: WriteTx, uid: string, current: StoredObject | undefined): { change: LocalChange, rows: readonly ConnectorRow[] } | undefined {
    const row = this.#rows.get(uid)
    if (row === undefined) throw new NotFoundError(`object ${uid} is not held by the echo-loop guard (GET /api/echo-loops lists what is)`)
    tx.deleteAux(ECHO_HOLD_SPACE, uid)
    const edit = this.#heldEdits.get(uid)
    // an edit held on top of an older version than the current one would overwrite a peer's newer edit
    const fresh = current !== undefined && compare(current.vector, row.hold.on) === 'equal'
    return edit !== undefined && fresh ? edit : undefined
  }

  settleRelease (uid: string, recorded: StoredObject | undefined): void {
    const row = this.#rows.get(uid)
    if (row === undefined) return
    const now = this.#deps.now()
    const memory = afterAdminRelease(this.#memoryOf(uid) ?? {})
    this.#remember(uid, recorded !== undefined ? afterRecord(memory, recorded.vector, digestFields(recorded), now) : memory, now)
    this.#forget(uid)
    this.#deps.log.warn({ uid, type: row.type, id: row.id, recorded: recorded !== undefined }, `echo loop released by an admin: ${row.type} ${row.id} (${uid})${recorded !== undefined ? '; the held instance edit is recorded and sent out' : '; no held instance edit to record (its next edit is recorded)'}`)
    this.#emit(row, 'released')
  }

  holds (): EchoHoldView[] {
    return [...this.#rows.values()].sort((a, b) => a.hold.since - b.hold.since).map((row) => ({
      uid: row.uid,
      type: row.type,
      id: row.id,
      peer: row.peer,
      fields: row.hold.signature.echo,
      back: row.hold.signature.back,
      since: row.hold.since,
      bounces: row.hold.bounces,
      resumed: row.hold.resumed,
      diff: row.diff,
      editHeld: this.#heldEdits.has(row.uid)
    }))
  }

  #memoryOf (uid: string): EchoMemory | undefined {
    return this.#pinned.get(uid) ?? this.#recent.get(uid)?.memory
  }

  #remember (uid: string, memory: EchoMemory, now: number): void {
    const recent = this.#recent
    recent.delete(uid)
    if (memory.hold !== undefined || memory.learned !== undefined) { this.#pinned.set(uid, memory); return }
    this.#pinned.delete(uid)
    recent.set(uid, { memory, touched: now })
    // least recently touched first: drop from the front what is stale or too many
    for (const [old, entry] of recent) {
      if (recent.size <= MAX_RECENT && now - entry.touched <= this.#deps.options.roundTripMs) break
      recent.delete(old)
    }
  }

  #forget (uid: string): void {
    this.#rows.delete(uid)
    this.#heldEdits.delete(uid)
  }

  #emit (row: { uid: string, type: string, id: string }, action: EchoGuardEvent['action']): void {
    this.#deps.onEvent?.({ uid: row.uid, type: row.type, id: row.id, action, held: this.#rows.size })
  }

  #settleHold (j: EchoJudgement, event: 'tripped' | 'resumed' | undefined): void {
    const row = j.row!
    this.#rows.set(row.uid, row)
    this.#heldEdits.set(row.uid, { change: j.change, rows: j.rows })
    if (event === undefined) return
    this.#loopsFound++
    const { hold } = row
    const fields = hold.signature.echo.join(', ')
    this.#deps.log.error({ uid: row.uid, type: row.type, id: row.id, peer: row.peer, fields: hold.signature.echo, back: hold.signature.back, bounces: hold.bounces, diff: row.diff },
      event === 'tripped'
        ? `echo loop: ${row.type} ${row.id} (${row.uid}) came back from ${row.peer} changed ${hold.bounces} times in a row with no one editing it — the instance changes ${fields} of every version written into it (${describeDiff(row.diff)}). Its instance edits are held, not sent out, until someone edits it here or an admin releases it (labmesh release ${row.uid}); fix what the instance does to ${fields} to end the loop`
        : `echo loop again: ${row.type} ${row.id} (${row.uid}) came back from ${row.peer} and the instance changed ${fields} again (${describeDiff(row.diff)}): held again at once, as before`)
    this.#emit(row, 'held')
  }
}

function holdRow (change: LocalChange, current: StoredObject, hold: Hold): EchoHoldRow {
  return { uid: change.uid, type: current.type, id: current.id, peer: current.via ?? '', hold, diff: diffOf(hold.signature, current, change) }
}

/** What was written and what the instance reported, for each field it changed. */
function diffOf (signature: Signature, written: StoredObject, reported: LocalChange): EchoDiffLine[] {
  const w = contentFields(written)
  const r = contentFields(reported)
  return signature.echo.map((field) => ({ field, written: shown(w[field]), reported: shown(r[field]) }))
}

function shown (value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value)
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}…` : text
}

function describeDiff (diff: readonly EchoDiffLine[]): string {
  return diff.map((d) => `${d.field}: wrote ${d.written}, instance shows ${d.reported}`).join('; ')
}
