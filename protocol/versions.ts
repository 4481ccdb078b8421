/**
 * The sync protocol versions this code speaks, and their libp2p protocol IDs.
 * Negotiation is libp2p's: the dialler offers its IDs in order of preference
 * (multistream-select picks the first the listener handles), the listener
 * handles every version it speaks; a session then speaks the version of the
 * ID it was opened with, and every message in it carries that `v`.
 */
import { PROTOCOL_ID, PROTOCOL_ID_V2, PROTOCOL_VERSION, PROTOCOL_VERSION_2 } from './constants.js'

export type SyncVersion = typeof PROTOCOL_VERSION | typeof PROTOCOL_VERSION_2

/** every version spoken, preferred first */
export const SYNC_VERSIONS: readonly SyncVersion[] = [PROTOCOL_VERSION_2, PROTOCOL_VERSION]

export function protocolIdOf (version: SyncVersion): string {
  return version === PROTOCOL_VERSION_2 ? PROTOCOL_ID_V2 : PROTOCOL_ID
}

/** The version a negotiated protocol ID names; undefined for anything else. */
export function versionOfProtocol (protocol: string | undefined): SyncVersion | undefined {
  if (protocol === PROTOCOL_ID_V2) return PROTOCOL_VERSION_2
  if (protocol === PROTOCOL_ID) return PROTOCOL_VERSION
  return undefined
}

/** `versions` in order of preference, known ones only, without repeats; throws on an empty or unknown list. */
export function syncVersionsFrom (versions: readonly number[] | undefined): readonly SyncVersion[] {
  if (versions === undefined) return SYNC_VERSIONS
  const out = SYNC_VERSIONS.filter((v) => versions.includes(v))
  const unknown = versions.filter((v) => !(SYNC_VERSIONS as readonly number[]).includes(v))
  if (out.length === 0 || unknown.length > 0) throw new RangeError(`sync protocol versions ${JSON.stringify(versions)}: this agent speaks ${SYNC_VERSIONS.join(' and ')}; name at least one of them and nothing else`)
  return out
}
