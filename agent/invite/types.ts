/**
 * What invitations look like to the rest of the agent: the options of
 * `labmesh invite` / `POST /api/invites` and `labmesh join` / `POST
 * /api/join`, and what they answer. Plain data; no secret leaves through
 * these types except the code itself, once, to the admin who asked for it.
 */

export interface InviteOptions {
  /** the name the joining agent gets in this agent's peers (default: its domain) */
  readonly name?: string
  /** this agent pulls from the joining agent */
  readonly pull?: boolean
  /** ms until the code expires (default DEFAULT_INVITE_EXPIRY_MS) */
  readonly expiresMs?: number
  /** where the joiner should dial this agent (default: its listen addresses, loopback left out when others exist) */
  readonly addrs?: readonly string[]
}

/** A new invitation, with the one-line code to hand to the other agent's admin. */
export interface CreatedInvite {
  readonly code: string
  readonly id: string
  readonly expiresAt: number
  readonly domain: string
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly name: string | undefined
  readonly pull: boolean
}

/** An invitation as `GET /api/invites` lists it: never its secret. */
export interface InviteView {
  readonly id: string
  readonly state: 'open' | 'used' | 'expired'
  readonly createdAt: number
  readonly expiresAt: number
  readonly name: string | undefined
  readonly pull: boolean
  readonly usedAt: number | undefined
  /** the peer ID of the agent that used it */
  readonly usedBy: string | undefined
  /** the name it got in our peers */
  readonly usedName: string | undefined
}

export interface JoinOptions {
  /** the name the inviting agent gets in this agent's peers (default: its domain) */
  readonly name?: string
  /** this agent pulls from the inviting agent */
  readonly pull?: boolean
}

/** A join that went through: both agents now list each other. */
export interface JoinResult {
  readonly joined: true
  /** the inviting agent as it now stands in our peers */
  readonly peer: { readonly name: string, readonly peerId: string, readonly domain: string, readonly addrs: readonly string[], readonly pull: boolean }
  /** the name the inviting agent gave us */
  readonly nameThere: string
  /** the config file that was written (and reloaded) */
  readonly file: string
}
