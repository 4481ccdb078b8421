/**
 * Samples and their analyses through senaite.core's sample factory: a
 * sample is created with the services of its analyses (their versions in
 * this batch or the store), and the factory makes one analysis per service.
 * Analyses are never created on their own: the one the factory made is
 * adopted (by id, else by keyword; one no mapping claims), and a missing one
 * is added through the factory — the sample's Analyses field, as `{uid}`
 * records naming every service the sample keeps, since
 * `ARAnalysesField.set` removes the unsubmitted analyses of services it is
 * not given. One factory change at a time per sample.
 */
import type { ObjectVersion } from '../../../protocol/object.js'
import type { ConnectorRows } from '../connector.js'
import { ConnectorError } from '../../errors.js'
import type { Listing, SenaiteClient } from './client.js'
import type { Container } from './containers.js'
import type { CreateContext, Created } from './create-context.js'
import { siteUidOf, type Mapping } from './mapping.js'
import type { Serial } from './serial.js'

export interface SampleFactoryDeps {
  readonly client: SenaiteClient
  readonly mapping: Mapping
  readonly serial: Serial
  /** whether a SENAITE uid is some mesh object's already (mapped, or being mapped) */
  readonly claimed: (uid: string) => boolean
  readonly touch: (uid: string) => void
  /** the site's object `item` is the mesh object `meshUid`'s: journalled and mapped */
  readonly remember: (meshUid: string, item: Record<string, unknown>, rows: ConnectorRows | undefined) => Promise<void>
}

export interface SampleFactory {
  /** the services of a sample's analyses, as this site's UIDs: what the factory is to make analyses of */
  services (version: ObjectVersion, ctx: CreateContext): Promise<string[]>
  /** the analysis the factory made for `version` in `sample`, added through the factory when it is not there */
  analysis (version: ObjectVersion, sample: Container, ctx: CreateContext): Promise<Created>
}

export function createSampleFactory (deps: SampleFactoryDeps): SampleFactory {
  const { client, mapping, claimed } = deps

  async function listAnalyses (sample: Container): Promise<Array<Record<string, unknown>>> {
    const listing = await client.get<Listing>('analysis', { path: sample.path, depth: 1, complete: 'yes', limit: 1000 })
    return (listing.items ?? []).filter((i) => i.parent_path === sample.path || String(i.path ?? '').replace(/\/[^/]*$/, '') === sample.path)
  }

  return {
    async services (version, ctx) {
      const listed = Array.isArray(version.data.Analyses) ? version.data.Analyses.filter((u): u is string => typeof u === 'string') : []
      const services = new Set<string>()
      for (const uid of new Set([...listed, ...ctx.childrenInBatch(version.uid)])) {
        const analysis = await ctx.versionOf(uid)
        const service = analysis?.data.AnalysisService
        const local = typeof service === 'string' ? siteUidOf(mapping, service) : undefined
        if (local !== undefined) services.add(local)
      }
      return [...services]
    },

    async analysis (version, sample, ctx) {
      return await deps.serial.run(`factory:${sample.uid}`, async () => {
        const match = (children: Array<Record<string, unknown>>): Record<string, unknown> | undefined => {
          const free = children.filter((c) => c.portal_type === 'Analysis' && typeof c.uid === 'string' && !claimed(c.uid))
          return free.find((c) => c.id === version.id) ?? free.find((c) => (c.Keyword ?? c.getKeyword) === version.data.Keyword)
        }
        const analysesIn = async (container: Container, fresh = false): Promise<Array<Record<string, unknown>>> => {
          if (fresh || !ctx.analysesListed.has(container.uid)) ctx.analysesListed.set(container.uid, listAnalyses(container))
          return await ctx.analysesListed.get(container.uid)!
        }
        let children = await analysesIn(sample)
        let found = match(children)
        if (found === undefined) {
          const service = typeof version.data.AnalysisService === 'string' ? siteUidOf(mapping, version.data.AnalysisService) : undefined
          if (service === undefined) throw new ConnectorError(`analysis ${version.id} names no analysis service this site has`, false)
          // ARAnalysesField.set: every service the sample keeps, or the factory removes its unsubmitted analyses
          const keep = [...new Set([...children.map(serviceOf).filter((u): u is string => u !== undefined), service])]
          await client.post(`update/${sample.uid}`, { Analyses: keep.map((uid) => ({ uid })) })
          children = await analysesIn(sample, true)
          found = match(children)
          if (found === undefined) throw new ConnectorError(`the sample factory of ${sample.path} made no analysis for service ${service} (${String(version.data.Keyword ?? version.id)})`, false)
        }
        deps.touch(found.uid as string)
        await deps.remember(version.uid, found, ctx.rows)
        return { item: found, adopted: true }
      })
    }
  }
}

/** the service an analysis item is of */
function serviceOf (item: Record<string, unknown>): string | undefined {
  const service = item.AnalysisService as { uid?: unknown } | string | undefined
  if (typeof service === 'string') return service
  if (typeof service?.uid === 'string') return service.uid
  return typeof item.getServiceUID === 'string' ? item.getServiceUID : undefined
}
