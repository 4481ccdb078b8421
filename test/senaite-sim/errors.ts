/**
 * An error the simulated API turns into its error envelope
 * `{success: false, message, _runtime}`. `status` is what senaite.jsonapi's
 * APIError sets; every other exception is caught by plone.jsonapi.core and
 * answered with HTTP 200, which is `status: 200` here.
 */
export class SimError extends Error {
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}
