/**
 * `labmesh backup --config FILE --out DIR` and `labmesh restore --from DIR
 * --config FILE`. A backup is taken from the running agent through its
 * admin API (the agent holds the store's lock; it streams one consistent
 * snapshot while it goes on working); when no agent answers, or with
 * `--offline`, from the stopped agent's store directly. A restore checks
 * the backup against this labmesh and the config (domain, schema, the
 * identity key's peer ID), rebuilds the store with a new feed epoch, and
 * upgrades a backup of an older schema at once.
 */
import { access } from 'node:fs/promises'
import type { LoadedConfig } from '../../config/load.js'
import { AgentError } from '../../protocol/errors.js'
import { decodeFrames, type BackupManifest } from '../../store/backup/format.js'
import { backupStoppedStore } from '../../store/backup/offline.js'
import { formatBackupProgress, throttled, type BackupProgress } from '../../store/backup/progress.js'
import { checkCompatible, readManifest, restoreBackup } from '../../store/backup/restore.js'
import { MAX_DOMAIN_LENGTH } from '../../protocol/constants.js'
import { RESTORE_TAG_LENGTH } from '../../protocol/version-vector.js'
import { writeBackupDir } from '../../store/backup/write-dir.js'
import { BackupIncompatibleError } from '../../store/errors.js'
import { createLevelStore } from '../../store/level-store.js'
import { formatUpgradeProgress, throttledUpgradeReporter } from '../../store/upgrades/format.js'
import { SCHEMA_VERSION } from '../../store/upgrades/index.js'
import { backupFileParts, restoreTargets } from '../compose/backup.js'
import { loadIdentityKey, peerIdOf } from '../net/identity.js'
import { adminClientFor } from './admin-client.js'

export interface CommandOutput {
  readonly print: (line: string) => void
  readonly progress: (line: string, final: boolean) => void
}

const PROGRESS_EVERY_MS = 500

function progressPrinter (out: CommandOutput): (p: BackupProgress) => void {
  return throttled((p: BackupProgress) => out.progress(formatBackupProgress(p), p.finished), PROGRESS_EVERY_MS)
}

export function describeBackup (out: string, m: BackupManifest): string {
  const files = m.files.map((f) => `, ${f.count} ${f.part} files (${f.bytes.toLocaleString('en-US')} bytes)`).join('')
  return `backup of ${m.domain} (${m.online ? 'running agent' : 'stopped agent'}) in ${out}: ${m.objects.toLocaleString('en-US')} objects, feed head ${m.head}, epoch ${m.epoch}, store schema ${m.schema}, ${m.rows.toLocaleString('en-US')} rows${files}`
}

export async function backupCommand (config: LoadedConfig, options: { out: string, offline: boolean } & CommandOutput): Promise<BackupManifest> {
  const onProgress = progressPrinter(options)
  let manifest: BackupManifest | undefined
  if (!options.offline) {
    try {
      const stream = await (await adminClientFor(config)).postStream('/api/backup')
      manifest = await writeBackupDir(decodeFrames(stream), { out: options.out, online: true, onProgress })
    } catch (err) {
      if (!(err instanceof AgentError && err.code === 'NOT_STARTED')) throw err
      options.print(`no agent answers at ${config.http.listen}: backing up the stopped agent's store at ${config.paths.storeDir}`)
    }
  }
  manifest ??= await backupStoppedStore({
    location: config.paths.storeDir,
    out: options.out,
    peerId: peerIdOf(await loadIdentityKey(config.paths.keyFile)),
    parts: backupFileParts(config),
    onProgress
  })
  options.print(describeBackup(options.out, manifest))
  return manifest
}

/** The restored agent must be the agent that was backed up: peers admit it, and bind its domain, by its peer ID. */
async function checkIdentity (config: LoadedConfig, manifest: BackupManifest): Promise<void> {
  const keyFile = config.paths.keyFile
  if (!await access(keyFile).then(() => true, () => false)) {
    throw new BackupIncompatibleError(`no identity key at ${keyFile}: a backup does not hold the agent's private key; copy identity.key from the agent that was backed up (peer ID ${manifest.peerId}) to ${keyFile} (mode 0600), then restore again`)
  }
  const peerId = peerIdOf(await loadIdentityKey(keyFile))
  if (peerId !== manifest.peerId) {
    throw new BackupIncompatibleError(`the identity key at ${keyFile} is peer ID ${peerId}, the backup is of peer ID ${manifest.peerId}: its peers know that agent by its peer ID; use that agent's identity.key`)
  }
}

export async function restoreCommand (config: LoadedConfig, options: { from: string, replace: boolean } & CommandOutput): Promise<void> {
  const manifest = await readManifest(options.from)
  const targets = restoreTargets(config)
  checkCompatible(manifest, { from: options.from, domain: config.domain, codeSchema: SCHEMA_VERSION, fileTargets: targets })
  await checkIdentity(config, manifest)
  const result = await restoreBackup({
    from: options.from,
    storeDir: config.paths.storeDir,
    domain: config.domain,
    codeSchema: SCHEMA_VERSION,
    fileTargets: targets,
    replace: options.replace,
    onProgress: progressPrinter(options)
  })
  if (result.movedAside !== undefined) options.print(`the store that was there is kept at ${result.movedAside}`)
  if (manifest.schema < SCHEMA_VERSION) {
    options.print(`the backup has store schema ${manifest.schema}; this labmesh writes schema ${SCHEMA_VERSION}: upgrading the restored store`)
    const store = createLevelStore({
      location: config.paths.storeDir,
      domain: config.domain,
      onUpgradeProgress: throttledUpgradeReporter((p) => options.progress(formatUpgradeProgress(p), p.finished), PROGRESS_EVERY_MS)
    })
    await store.open()
    await store.close()
  }
  options.print(`restored ${describeBackup(options.from, manifest)} into ${config.paths.storeDir}`)
  options.print(result.entry !== undefined
    ? `its edits raise the vector entry ${result.entry} from now on, not ${config.domain}: an edit made here before the writes the restore lost have come back is a conflict with them, never a silent loss`
    : `the domain ${config.domain} is too long for a restore entry (at most ${MAX_DOMAIN_LENGTH - 1 - RESTORE_TAG_LENGTH} characters): its edits raise ${config.domain} as before; let it pull from its remotes before the lab edits on it`)
  options.print(`new feed epoch ${result.epoch} (the backup's was ${manifest.epoch}): peers pull this agent's feed again from its start; it resumes its own pulls from the checkpoints it had. Start it with \`labmesh start --config ${config.configFile ?? 'FILE'}\``)
}
