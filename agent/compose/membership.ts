/**
 * Joining a mesh without editing YAML: invitations issued here, the inviter's
 * side of a handshake (taking the joiner into our config), and joining
 * another agent's invitation. Both sides end the same way — the peer entry
 * spliced into the admin's file (comments and layout kept), validated as at
 * start, written atomically, then applied as a reload of that file — and
 * both check everything they can before the invitation is spent: a config
 * that could not take the new peer refuses the join and leaves the code
 * usable.
 *
 * The inviter marks the invitation used on disk before it writes its config
 * and before the joiner hears "welcome": a crash between the two leaves the
 * code used and the joiner not added (it asks for a new code), never a code
 * that admits twice.
 */
import { addPeerToConfigText, commitConfigEdit, prepareConfigEdit, type ConfigEdit, type PeerEntryInput } from '../../config/edit-peers.js'
import { ConfigError, ConfigRestartError } from '../../config/errors.js'
import { liveChanges } from '../../config/live-changes.js'
import { InviteError } from '../../protocol/errors.js'
import { encodeInviteCode } from '../../protocol/invite-code.js'
import { DEFAULT_INVITE_EXPIRY_MS, MAX_INVITE_EXPIRY_MS } from '../../protocol/invite-constants.js'
import type { AgentOperations } from '../admin/deps.js'
import { BadRequestError } from '../errors.js'
import { reachableAddrs } from '../invite/addresses.js'
import type { Joiner } from '../invite/host.js'
import type { InviteRecord } from '../invite/invite-book.js'
import { joinInviter } from '../invite/join.js'
import { readInviteCode } from '../invite/read-code.js'
import type { JoinOptions, JoinResult } from '../invite/types.js'
import { applyConfig, configFileOf, reloadConfig, type ReloadContext } from './live-config.js'

/** The membership operations of AgentOperations. */
export function membershipOperations (ctx: ReloadContext): Pick<AgentOperations, 'invites' | 'join' | 'reloadConfig'> {
  const book = (): NonNullable<ReloadContext['parts']['invites']> => ctx.need('invites', 'invitations')
  return {
    invites: {
      async create (options) {
        configFileOf(ctx.live.config, 'add the joining agent to')
        const expiresMs = options.expiresMs ?? DEFAULT_INVITE_EXPIRY_MS
        if (expiresMs < 1000 || expiresMs > MAX_INVITE_EXPIRY_MS) throw new BadRequestError(`an invitation may be valid from 1 s to ${MAX_INVITE_EXPIRY_MS / 86_400_000} days`)
        if (options.name !== undefined) assertNameFree(ctx, options.name, undefined)
        const addrs = options.addrs ?? reachableAddrs(ctx.need('mesh', 'mesh').listenAddrs())
        if (addrs.length === 0) throw new BadRequestError('this agent listens nowhere: give the address the other agent should dial (addrs / --addr)')
        const record = await book().create({ ...(options.name !== undefined ? { name: options.name } : {}), pull: options.pull === true, expiresMs })
        const code = encodeInviteCode({ id: record.id, secret: record.secret, expiresAt: record.expiresAt, peerId: ctx.self.peerId, domain: ctx.live.config.domain, addrs })
        ctx.log.info({ invite: record.id, expiresAt: new Date(record.expiresAt).toISOString(), name: options.name, pull: record.pull }, 'invitation created')
        ctx.bus.emit({ type: 'invite', id: record.id, state: 'open' })
        return { code, id: record.id, expiresAt: record.expiresAt, domain: ctx.live.config.domain, peerId: ctx.self.peerId, addrs, name: options.name, pull: record.pull }
      },
      list: () => book().list(),
      async revoke (id) {
        await book().revoke(id)
        ctx.bus.emit({ type: 'invite', id, state: 'revoked' })
      }
    },
    join: async (code, options) => await joinMesh(ctx, code, options),
    reloadConfig: async () => await reloadConfig(ctx)
  }
}

/**
 * The inviter's `admit`: add the joiner to our config and apply it. A joiner
 * already listed (by peer ID) keeps its entry; only the invitation is spent.
 */
export function admitJoiner (ctx: ReloadContext): (joiner: Joiner, record: InviteRecord) => Promise<string> {
  return async (joiner, record) => await ctx.live.serially(async () => {
    if (ctx.self.state !== 'started') throw new InviteError('INVITE_REFUSED', `the inviting agent is ${ctx.self.state}: try again in a moment`)
    const existing = ctx.live.config.peers.find((p) => p.peerId === joiner.peerId)
    const name = existing?.name ?? record.name ?? joiner.domain
    const entry = { name, peerId: joiner.peerId, addrs: joiner.addrs, pull: record.pull }
    const edit = existing === undefined ? await refusingJoin(async () => await preparePeerEdit(ctx, entry, `added by labmesh invite ${record.id} on ${new Date(ctx.now()).toISOString()} (${joiner.domain})`)) : undefined
    await ctx.need('invites', 'invitations').claim(record.id, joiner.peerId, name)
    if (edit !== undefined) {
      await commitConfigEdit(edit)
      await applyConfig(ctx, edit.config)
    }
    ctx.bus.emit({ type: 'invite', id: record.id, state: 'used' })
    return name
  })
}

/** Join the agent that issued `text`; see the module header. */
async function joinMesh (ctx: ReloadContext, text: string, options: JoinOptions): Promise<JoinResult> {
  const code = readInviteCode(text, { peerId: ctx.self.peerId, now: ctx.now })
  const existing = (): PeerEntryInput | undefined => ctx.live.config.peers.find((p) => p.peerId === code.peerId)
  const name = existing()?.name ?? options.name ?? code.domain
  const pull = options.pull === true
  const note = `added by labmesh join on ${new Date(ctx.now()).toISOString()} (${code.domain})`
  // everything that could refuse on our side is checked before the invitation is spent
  if (existing() === undefined) await preparePeerEdit(ctx, { name, peerId: code.peerId, addrs: code.addrs, pull }, note)
  const mesh = ctx.need('mesh', 'mesh')
  const welcome = await joinInviter({
    peerId: ctx.self.peerId,
    domain: ctx.live.config.domain,
    listenAddrs: () => reachableAddrs(mesh.listenAddrs()),
    now: ctx.now,
    log: ctx.log.child({ component: 'invite' }),
    openStream: async (peerId, addrs, signal) => await mesh.openGuestStream(peerId, addrs, signal)
  }, code)
  const addrs = welcome.addrs.length > 0 ? welcome.addrs : code.addrs
  const file = configFileOf(ctx.live.config, 'write the inviting agent into')
  await ctx.live.serially(async () => {
    if (existing() !== undefined) return
    const entry = { name, peerId: code.peerId, addrs, pull }
    // the inviter's current addresses, or those of the code should the inviter have sent unusable ones
    const edit = await preparePeerEdit(ctx, entry, note).catch(async () => await preparePeerEdit(ctx, { ...entry, addrs: code.addrs }, note))
    await commitConfigEdit(edit)
    await applyConfig(ctx, edit.config)
  }).catch((err: unknown) => {
    throw new InviteError('INVITE_REFUSED', `${code.domain} accepted this agent, but adding it to ${file} failed: ${err instanceof Error ? err.message : String(err)}; add it by hand (name: ${name}, peerId: ${code.peerId}, addrs: [${addrs.join(', ')}]) and run labmesh reload`, { cause: err })
  })
  const peer = ctx.live.config.peers.find((p) => p.peerId === code.peerId)
  return {
    joined: true,
    peer: { name: peer?.name ?? name, peerId: code.peerId, domain: code.domain, addrs: peer?.addrs ?? addrs, pull: peer?.pull ?? pull },
    nameThere: welcome.name,
    file
  }
}

/** The config file with `entry` added, validated, not written; refused when the name is taken or a restart is pending. */
async function preparePeerEdit (ctx: ReloadContext, entry: PeerEntryInput, note: string): Promise<ConfigEdit> {
  assertNameFree(ctx, entry.name, entry.peerId)
  const file = configFileOf(ctx.live.config, 'add the peer to')
  const edit = await prepareConfigEdit(file, (text) => addPeerToConfigText(text, entry, note, file), ctx.env)
  const changes = liveChanges(ctx.live.config, edit.config)
  if (changes.restart.length > 0) throw new ConfigRestartError(changes.restart, file)
  return edit
}

function assertNameFree (ctx: ReloadContext, name: string, peerId: string | undefined): void {
  const holder = ctx.live.config.peers.find((p) => p.name === name)
  if (holder !== undefined && holder.peerId !== peerId) {
    throw new BadRequestError(`${ctx.live.config.domain} already has a peer named "${name}" (${holder.peerId}): choose another name (--name)`)
  }
}

/** A problem on the inviter's side, as the joiner is to hear it: INVITE_REFUSED, saying what. */
async function refusingJoin<T> (run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    const what = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)
    throw new InviteError('INVITE_REFUSED', `the inviting agent cannot take this agent into its config: ${what}`, { cause: err })
  }
}
