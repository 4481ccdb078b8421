/**
 * Vocabulary of the import rules (DESIGN.md "Rules"; SENAITE.SYNC's options).
 * Rules are values compiled once from the config and consulted by pure
 * functions; nothing here performs I/O, reads a clock or logs.
 */

/** Object classes that are not portal types and are imported only on request. */
export const SPECIAL_TYPES = {
  /** a Plone user with roles and groups (`import.users`) */
  user: '@user',
  /** a registry record; id = record name (`import.registry`) */
  registry: '@registry',
  /** an instance settings block; id = settings key (`import.settings`) */
  settings: '@settings'
} as const

/** Rules for what we import from one remote. */
export interface InboundRules {
  readonly peerName: string
  /** this agent's domain (objects with this origin are ours) */
  readonly localDomain: string
  /** our prefix on the other side ('' = none) */
  readonly localPrefix: string
  /** glue between prefix and id */
  readonly separator: string
  /** this remote's prefix, glued to ids of prefixable types ('' = none) */
  readonly prefix: string
  readonly only: ReadonlySet<string>
  readonly skip: ReadonlySet<string>
  readonly prefixable: ReadonlySet<string>
  readonly readOnly: ReadonlySet<string>
  readonly updateOnly: ReadonlySet<string>
  readonly importUsers: boolean
  readonly importRegistry: boolean
  readonly importSettings: boolean
}

/** Rules for what one peer may receive from us. */
export interface ServeRules {
  readonly only: ReadonlySet<string>
  readonly skip: ReadonlySet<string>
  readonly users: boolean
  readonly registry: boolean
  readonly settings: boolean
}

export type IgnoreReason =
  /** types.only is set and does not list the type */
  | 'not-in-only'
  /** types.skip lists the type */
  | 'skipped-type'
  /** types.updateOnly lists the type and the object did not originate here */
  | 'update-only-foreign'
  /** import.users is off */
  | 'users-not-imported'
  /** import.registry is off, or the record is not a bika/senaite one */
  | 'registry-not-imported'
  /** import.settings is off */
  | 'settings-not-imported'

export type InboundDecision =
  /** apply this version (its id possibly rewritten by a prefix rule) */
  | { readonly action: 'apply', readonly idRewritten: boolean }
  | { readonly action: 'ignore', readonly reason: IgnoreReason, readonly rule: string }

export type ServeExclusion = 'not-in-only' | 'skipped-type' | 'users-not-served' | 'registry-not-served' | 'settings-not-served' | 'read-only-local-edit'

/**
 * What rules are compiled from: the shape of one `peers[]` entry of the
 * config (config/schema.ts PeerConfig has it), named here so that the rules
 * depend on nothing but the protocol.
 */
export interface PeerRuleSource {
  readonly name: string
  readonly prefix: string
  readonly types: {
    readonly only: readonly string[]
    readonly skip: readonly string[]
    readonly prefixable: readonly string[]
    readonly readOnly: readonly string[]
    readonly updateOnly: readonly string[]
  }
  readonly import: { readonly users: boolean, readonly registry: boolean, readonly settings: boolean }
  readonly serve: {
    readonly types: { readonly only: readonly string[], readonly skip: readonly string[] }
    readonly users: boolean
    readonly registry: boolean
    readonly settings: boolean
  }
}

/** The agent-wide settings the import rules depend on (domain and prefix presentation). */
export interface AgentRuleSource {
  readonly domain: string
  readonly localPrefix: string
  readonly prefixSeparator: string
}
