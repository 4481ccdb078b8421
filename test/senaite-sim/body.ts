/**
 * The record of a write request, as senaite.jsonapi's
 * `request.get_request_data` builds it: the body parsed as JSON (a body
 * that is not JSON: 400 "Request Data is not JSON deserializable – Check
 * JSON Syntax!"), updated with `request.form` — which is where a
 * form-encoded post (the doctests' way) lands, its body then being no JSON
 * at all to Zope. A JSON list fails on `.update` (HTTP 200).
 */
import type { Context } from 'hono'
import { SimError } from './errors.js'
import { parseForm } from './form.js'

export interface WriteRecord {
  readonly record: Record<string, unknown>
  readonly encoding: 'json' | 'form'
}

export async function readRecord (c: Context): Promise<WriteRecord> {
  const type = c.req.header('content-type') ?? ''
  const text = await c.req.text()
  if (type.includes('application/x-www-form-urlencoded')) {
    return { record: parseForm(new URLSearchParams(text)) as Record<string, unknown>, encoding: 'form' }
  }
  let body: unknown
  try {
    body = JSON.parse(text === '' ? '{}' : text)
  } catch {
    throw new SimError(400, 'Request Data is not JSON deserializable – Check JSON Syntax!')
  }
  if (Array.isArray(body)) throw new SimError(200, "'list' object has no attribute 'update'")
  if (body === null) throw new SimError(200, "'NoneType' object has no attribute 'update'")
  if (typeof body !== 'object') throw new SimError(200, `'${typeof body === 'string' ? 'unicode' : typeof body === 'number' ? 'int' : 'bool'}' object has no attribute 'update'`)
  return { record: body as Record<string, unknown>, encoding: 'json' }
}
