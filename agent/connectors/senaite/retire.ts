/**
 * A mesh delete in SENAITE, where nothing is deleted (reference §2.6): the
 * API's `delete` route runs the `deactivate` transition, which samples,
 * analyses and the other non-deactivable types do not have — those are
 * cancelled instead.
 */
import type { SenaiteClient } from './client.js'
import { portalType } from './portal-types.js'

export async function retire (client: SenaiteClient, uid: string, type: string): Promise<void> {
  if (portalType(type)?.deactivable !== false) {
    await client.post(`delete/${uid}`, {})
    return
  }
  await client.post(`update/${uid}`, { transition: 'cancel' })
}
