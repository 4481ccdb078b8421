/**
 * Opening a SENAITE site: the password (a file or an environment variable),
 * the certificate to trust (instance.caFile), the client, and the add-on's
 * "test connection" made specific. Each failure is a ConnectorError that
 * says which setting is wrong and what to do, so `labmesh start` fails with
 * advice instead of a stack.
 */
import { readFile } from 'node:fs/promises'
import type { LoadedConfig } from '../../../config/load.js'
import { describeError } from '../../../protocol/errors.js'
import { ConnectorError } from '../../errors.js'
import { SenaiteApiError } from './api-errors.js'
import { createSenaiteClient, type SenaiteClient } from './client.js'

export type SenaiteInstance = Extract<LoadedConfig['instance'], { kind: 'senaite' }>

/** A client for the site `instance` names, with its password and certificate read; not checked yet (checkConnection). */
export async function openClient (instance: SenaiteInstance, env: NodeJS.ProcessEnv): Promise<SenaiteClient> {
  const password = await readSecret(instance.passwordFile, instance.passwordEnv, env)
  let ca: string | undefined
  if (instance.caFile !== undefined) {
    try {
      ca = await readFile(instance.caFile, 'utf8')
    } catch (err) {
      throw new ConnectorError(`instance.caFile ${instance.caFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? describeError(err)}): point it at the site's certificate (PEM)`, false, { cause: err })
    }
  }
  return createSenaiteClient({ url: instance.url, username: instance.username, password, concurrency: instance.concurrency, ...(ca !== undefined ? { ca } : {}) })
}

async function readSecret (file: string | undefined, envName: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (file !== undefined) {
    try {
      return (await readFile(file, 'utf8')).trim()
    } catch (err) {
      throw new ConnectorError(`instance.passwordFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path and permissions`, false, { cause: err })
    }
  }
  const value = envName !== undefined ? env[envName] : undefined
  if (value === undefined || value === '') throw new ConnectorError(`environment variable ${envName ?? '(none)'} named by instance.passwordEnv is not set: export it before starting labmesh`, false)
  return value
}

/**
 * The add-on's "test connection", made specific: the URL must serve the
 * JSON API (a `version` key), and the credentials must authenticate —
 * SENAITE treats wrong credentials as anonymous, not as an error.
 */
export async function checkConnection (client: SenaiteClient, instance: SenaiteInstance): Promise<void> {
  let version: Record<string, unknown>
  try {
    version = await client.get('version')
  } catch (err) {
    if (err instanceof SenaiteApiError && (err.status === 404 || err.status === 200)) {
      throw new ConnectorError(`no SENAITE JSON API at ${client.baseUrl}: check that instance.url (${instance.url}) includes the portal path, e.g. https://host/senaite`, false, { cause: err })
    }
    throw err
  }
  if (typeof version.version !== 'string') throw new ConnectorError(`${client.baseUrl}/version has no "version": is instance.url (${instance.url}) a SENAITE site with senaite.jsonapi?`, false)
  const current = await client.get<{ items?: Array<{ authenticated?: boolean, username?: string }>, authenticated?: boolean }>('users/current')
  const me = current.items?.[0] ?? current
  if (me.authenticated !== true) {
    throw new ConnectorError(`SENAITE did not accept the credentials of instance.username "${instance.username}" (it treats the agent as anonymous): check the password in instance.passwordFile / passwordEnv`, false)
  }
}
