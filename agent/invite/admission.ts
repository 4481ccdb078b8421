/**
 * Whether a peer not in the config may connect for the invite handshake:
 * only while an invitation exists that has not expired, and at most
 * `perMinute` such peers in any 60 s (all invitations together), so that an
 * open invitation cannot be used to make the agent do Noise handshakes
 * without end. Pure apart from the clock it is given.
 */

const WINDOW_MS = 60_000

export interface GuestAdmissionDeps {
  /** an invitation exists that has not expired (InviteBook.admitsGuests) */
  readonly invitationOpen: () => boolean
  readonly now: () => number
  readonly perMinute: number
  /** told once per window when the rate limit starts refusing */
  readonly onLimited?: (peerId: string) => void
}

export function guestAdmission (deps: GuestAdmissionDeps): (peerId: string) => boolean {
  /** times of the admissions within the last window, oldest first */
  const admitted: number[] = []
  let limitedSince: number | undefined
  return (peerId) => {
    if (!deps.invitationOpen()) return false
    const now = deps.now()
    while (admitted.length > 0 && admitted[0]! <= now - WINDOW_MS) admitted.shift()
    if (admitted.length >= deps.perMinute) {
      if (limitedSince === undefined || limitedSince <= now - WINDOW_MS) {
        limitedSince = now
        deps.onLimited?.(peerId)
      }
      return false
    }
    admitted.push(now)
    return true
  }
}
