/**
 * Schema 2: the aux space `agent:echo-hold` (store/keys.ts), where the
 * echo-loop guard keeps the objects it holds. A store of schema 1 has no
 * such rows, so nothing is converted; the step exists so that the schema
 * says the space may be there, and code from before the guard — which
 * would ignore the holds and let the loops they stopped start again —
 * refuses the store instead of opening it (STORE_SCHEMA_TOO_NEW).
 */
import type { UpgradeStep } from './step.js'

export const echoHoldsStep: UpgradeStep = {
  to: 2,
  name: 'echo-holds',
  description: 'adds the aux space agent:echo-hold (objects the echo-loop guard holds); a store from before has none, so no row changes',
  estimate: async () => 0,
  async run () {
    // nothing to convert: the space starts empty
  }
}
