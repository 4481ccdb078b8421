/**
 * The invitations an agent has issued, kept in `dataDir/invites.json` (mode
 * 0600: it holds their secrets) so that a restart neither loses an open one
 * nor resurrects a used one. Every change is written atomically before it is
 * acted on: a code is marked used on disk before the joiner hears "welcome".
 *
 * Used invitations are kept until they expire, so that a second use is told
 * "already used" rather than "unknown"; expired ones are dropped at the next
 * write. Writes are serialised; the file has no other writer (one agent per
 * dataDir, which the store's lock makes sure of).
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../../config/atomic-write.js'
import { InviteError, describeError } from '../../protocol/errors.js'
import { INVITE_ID_BYTES, INVITE_SECRET_BYTES, MAX_INVITES } from '../../protocol/invite-constants.js'
import { BadRequestError, NotFoundError } from '../errors.js'
import type { Logger } from '../runtime/logger.js'
import type { InviteView } from './types.js'

const FILE_VERSION = 1

export interface InviteRecord {
  /** hex; public, in the code */
  readonly id: string
  /** hex; proven by HMAC, never sent */
  readonly secret: string
  readonly createdAt: number
  readonly expiresAt: number
  readonly name?: string
  readonly pull: boolean
  readonly usedAt?: number
  readonly usedBy?: string
  readonly usedName?: string
}

export interface InviteBook {
  load (): Promise<void>
  create (options: { name?: string, pull: boolean, expiresMs: number }): Promise<InviteRecord>
  find (id: string): InviteRecord | undefined
  /** an invitation that has not expired exists (open, or used and kept to say so) */
  admitsGuests (): boolean
  /**
   * Mark `id` used by `peerId` (as `name`), on disk. Using it again from the
   * same peer is a repeat (a lost answer), not a second use.
   */
  claim (id: string, peerId: string, name: string): Promise<InviteRecord>
  revoke (id: string): Promise<void>
  list (): InviteView[]
}

export function createInviteBook (deps: { readonly file: string, readonly now: () => number, readonly log: Logger }): InviteBook {
  let records: InviteRecord[] = []
  let writing: Promise<void> = Promise.resolve()
  const live = (): InviteRecord[] => records.filter((r) => r.expiresAt > deps.now())

  /** one change at a time: compute the new list, write it, then let it count */
  const change = async <T>(apply: (current: InviteRecord[]) => { next: InviteRecord[], result: T }): Promise<T> => {
    const run = writing.then(async () => {
      const { next, result } = apply(live())
      await writeFileAtomic(deps.file, `${JSON.stringify({ version: FILE_VERSION, invites: next }, null, 2)}\n`, 0o600)
      records = next
      return result
    })
    writing = run.then(() => {}, () => {})
    return await run
  }

  return {
    async load () {
      records = await readInvites(deps.file, deps.log)
    },

    async create ({ name, pull, expiresMs }) {
      return await change((current) => {
        if (current.length >= MAX_INVITES) throw new BadRequestError(`this agent already keeps ${MAX_INVITES} invitations: revoke some (DELETE /api/invites/:id) or let them expire`)
        const now = deps.now()
        const record: InviteRecord = {
          id: randomBytes(INVITE_ID_BYTES).toString('hex'),
          secret: randomBytes(INVITE_SECRET_BYTES).toString('hex'),
          createdAt: now,
          // the code keeps whole seconds: so does the record, or the two would disagree about the last second
          expiresAt: Math.floor((now + expiresMs) / 1000) * 1000,
          ...(name !== undefined ? { name } : {}),
          pull
        }
        return { next: [...current, record], result: record }
      })
    },

    find (id) {
      return records.find((r) => r.id === id)
    },

    admitsGuests () {
      const now = deps.now()
      return records.some((r) => r.expiresAt > now)
    },

    async claim (id, peerId, name) {
      return await change((current) => {
        const record = current.find((r) => r.id === id)
        if (record === undefined) throw new InviteError('INVITE_EXPIRED', 'this invitation expired (or was revoked) a moment ago: ask for a new code')
        if (record.usedBy !== undefined && record.usedBy !== peerId) throw usedError(record)
        const used: InviteRecord = { ...record, usedAt: record.usedAt ?? deps.now(), usedBy: peerId, usedName: name }
        return { next: current.map((r) => r.id === id ? used : r), result: used }
      })
    },

    async revoke (id) {
      await change((current) => {
        if (!current.some((r) => r.id === id)) throw new NotFoundError(`no invitation ${id} (it may have expired)`)
        return { next: current.filter((r) => r.id !== id), result: undefined }
      })
    },

    list () {
      const now = deps.now()
      return records.map((r) => viewOf(r, now))
    }
  }
}

function viewOf (r: InviteRecord, now: number): InviteView {
  return {
    id: r.id,
    state: r.usedBy !== undefined ? 'used' : r.expiresAt <= now ? 'expired' : 'open',
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    name: r.name,
    pull: r.pull,
    usedAt: r.usedAt,
    usedBy: r.usedBy,
    usedName: r.usedName
  }
}

/** The invitations in `file`: none when it does not exist, or cannot be read as ours (logged). */
async function readInvites (file: string, log: Logger): Promise<InviteRecord[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown, invites?: unknown }
    if (parsed.version !== FILE_VERSION || !Array.isArray(parsed.invites)) throw new Error(`version ${String(parsed.version)}, expected ${FILE_VERSION}`)
    return (parsed.invites as InviteRecord[]).filter((r) => typeof r.id === 'string' && typeof r.secret === 'string' && typeof r.expiresAt === 'number')
  } catch (err) {
    // losing invitations is the safe way to fail: no one gets in on a record we cannot read
    log.warn({ file, err: describeError(err) }, 'the invitations file is unreadable: no invitation is open; create new ones with `labmesh invite`')
    return []
  }
}

export function usedError (record: InviteRecord): InviteError {
  return new InviteError('INVITE_USED', `this invite code was already used${record.usedAt !== undefined ? ` at ${new Date(record.usedAt).toISOString()}` : ''} (each code admits one agent): ask for a new code with \`labmesh invite\``)
}
