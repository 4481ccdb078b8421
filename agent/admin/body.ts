/** Reading and validating JSON request bodies at the edge. */
import type { Context } from 'hono'
import type { z } from 'zod'
import { BadRequestError } from '../errors.js'

export async function readJson<T> (c: Context, schema: z.ZodType<T>): Promise<T> {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new BadRequestError('request body is not valid JSON: send a JSON object with Content-Type: application/json')
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }))
    throw new BadRequestError(`invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues)
  }
  return parsed.data
}
