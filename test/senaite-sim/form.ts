/**
 * ZPublisher's view of request parameters, which is what senaite.jsonapi's
 * `req.get(key)` reads (`request.form`): a repeated key is a list, and
 * `name:list`, `name:record` and `name.attr:record[:date]` converters build
 * lists and records. Range queries on a catalog date index are sent that way
 * (`modified.query:record:date=…&modified.range:record=min`).
 *
 * The same parsing applies to form-encoded POST bodies, which is how the
 * senaite.jsonapi doctests post (`urllib.urlencode(data, doseq=True)`).
 */

export interface ZRecord { readonly record: true, readonly attrs: Readonly<Record<string, string | Date>> }
export type FormValue = string | string[] | ZRecord
export type Form = Record<string, FormValue>

export const isRecord = (v: unknown): v is ZRecord => typeof v === 'object' && v !== null && (v as { record?: unknown }).record === true

export function parseForm (params: URLSearchParams): Form {
  const form: Form = {}
  const records = new Map<string, Record<string, string | Date>>()
  for (const [rawKey, value] of params) {
    const [head, ...converters] = rawKey.split(':')
    if (head === undefined || head === '') continue
    if (converters.includes('record')) {
      const dot = head.indexOf('.')
      if (dot < 0) continue
      const name = head.slice(0, dot)
      const attrs = records.get(name) ?? {}
      attrs[head.slice(dot + 1)] = converters.includes('date') ? new Date(zopeDate(value)) : value
      records.set(name, attrs)
      continue
    }
    const existing = form[head]
    if (converters.includes('list')) {
      form[head] = Array.isArray(existing) ? [...existing, value] : typeof existing === 'string' ? [existing, value] : [value]
    } else if (existing === undefined) {
      form[head] = value
    } else {
      // a repeated key becomes a list
      form[head] = Array.isArray(existing) ? [...existing, value] : [existing as string, value]
    }
  }
  for (const [name, attrs] of records) form[name] = { record: true, attrs }
  return form
}

/** Zope's DateTime reads a naive ISO string as the server's local time; the simulator's server runs in UTC. */
function zopeDate (value: string): string {
  return /[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : `${value}Z`
}

/** The first value of a parameter (a list's first item, nothing for a record). */
export function single (v: FormValue | undefined): string | undefined {
  if (v === undefined || isRecord(v)) return undefined
  return Array.isArray(v) ? v[0] : v
}

/** senaite.jsonapi `request.is_true`: the first value, lower-cased, in TRUE_VALUES */
export const isTrue = (v: FormValue | undefined): boolean => {
  const s = single(v)
  return s !== undefined && ['y', 'yes', '1', 'true'].includes(s.toLowerCase())
}

/** senaite.jsonapi `_.to_int` (digits only) for `limit` / `b_start`: anything else falls back */
export function toInt (v: FormValue | undefined, fallback: number): number {
  const s = single(v)
  return s !== undefined && /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : fallback
}
