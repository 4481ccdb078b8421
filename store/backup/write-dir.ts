/**
 * The receiving side of a backup: frames into a backup directory. Written
 * into `<out>.partial` and renamed to `<out>` only once the sender's end
 * frame agreed with what arrived (row count, bytes, sha-256) and the
 * manifest is on disk: a backup directory that exists is whole.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BackupConflictError, BackupInvalidError } from '../errors.js'
import { BACKUP_FORMAT, MANIFEST_FILE, STORE_FILE, checkFileName, type BackupManifest, type Frame, type FrameHeader } from './format.js'
import { fileUnits, progressMeter, type BackupProgress } from './progress.js'

export interface WriteBackupOptions {
  readonly out: string
  /** taken from a running agent */
  readonly online: boolean
  readonly now?: () => number
  readonly onProgress?: (progress: BackupProgress) => void
}

/** Refuse an `out` that holds anything: a backup never overwrites. */
async function assertEmpty (out: string): Promise<void> {
  const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err })
  if (entries.length > 0) throw new BackupConflictError(`${out} exists and is not empty: a backup never overwrites; choose a new directory`)
}

export async function writeBackupDir (frames: AsyncIterable<Frame>, options: WriteBackupOptions): Promise<BackupManifest> {
  await assertEmpty(options.out)
  const partial = `${options.out}.partial`
  await rm(partial, { recursive: true, force: true })
  await mkdir(partial, { recursive: true })
  const state = new DirWriter(partial, options)
  try {
    for await (const frame of frames) {
      const manifest = await state.take(frame)
      if (manifest !== undefined) {
        await rm(options.out, { recursive: true, force: true }) // empty, checked above
        await rename(partial, options.out)
        return manifest
      }
    }
    throw new BackupInvalidError('the backup stream ended before its end frame: the agent stopped or the connection was cut; run the backup again')
  } catch (err) {
    await state.close()
    await rm(partial, { recursive: true, force: true })
    throw err
  }
}

class DirWriter {
  readonly #dir: string
  readonly #options: WriteBackupOptions
  readonly #hash = createHash('sha256')
  #begin: Extract<FrameHeader, { k: 'begin' }> | undefined
  #store: FileHandle | undefined
  #rows = 0
  #storeBytes = 0
  #file: { handle: FileHandle, left: number, size: number } | undefined
  #meter: ReturnType<typeof progressMeter> | undefined

  constructor (dir: string, options: WriteBackupOptions) {
    this.#dir = dir
    this.#options = options
  }

  /** Take one frame; the manifest once the end frame checked out. */
  async take ({ header, payload }: Frame): Promise<BackupManifest | undefined> {
    if (header.k === 'error') throw new BackupInvalidError(`the agent could not finish the backup: ${header.message} (${header.code})`)
    if (header.k === 'begin') {
      if (this.#begin !== undefined) throw new BackupInvalidError('backup stream: two begin frames')
      this.#begin = header
      this.#store = await open(join(this.#dir, STORE_FILE), 'wx')
      this.#meter = progressMeter('backup', header.snapshot.rows + header.files.reduce((n, f) => n + fileUnits(f.bytes), 0), this.#options.now)
      this.#report()
      return undefined
    }
    if (this.#begin === undefined || this.#store === undefined) throw new BackupInvalidError('backup stream: data before the begin frame')
    switch (header.k) {
      case 'rows':
        if (this.#file !== undefined) throw new BackupInvalidError('backup stream: rows inside a file')
        await this.#store.write(payload!)
        this.#hash.update(payload!)
        this.#rows += header.n
        this.#storeBytes += payload!.length
        this.#meter!.add(header.n)
        this.#report()
        return undefined
      case 'file':
        await this.#openFile(header)
        return undefined
      case 'chunk':
        await this.#chunk(payload!)
        return undefined
      case 'end':
        return await this.#finish(header)
    }
  }

  async #openFile (header: Extract<FrameHeader, { k: 'file' }>): Promise<void> {
    if (this.#file !== undefined) throw new BackupInvalidError(`backup stream: file ${header.name} began inside another`)
    checkFileName(header.part, header.name)
    const path = join(this.#dir, header.part, ...header.name.split('/'))
    await mkdir(dirname(path), { recursive: true })
    this.#file = { handle: await open(path, 'wx'), left: header.size, size: header.size }
    if (header.size === 0) await this.#closeFile()
  }

  async #chunk (payload: Uint8Array): Promise<void> {
    const file = this.#file
    if (file === undefined || payload.length > file.left) throw new BackupInvalidError('backup stream: file bytes outside a file, or more than its size')
    await file.handle.write(payload)
    file.left -= payload.length
    if (file.left === 0) await this.#closeFile()
  }

  async #closeFile (): Promise<void> {
    const file = this.#file!
    await file.handle.sync()
    await file.handle.close()
    this.#file = undefined
    this.#meter!.add(fileUnits(file.size))
    this.#report()
  }

  async #finish (end: Extract<FrameHeader, { k: 'end' }>): Promise<BackupManifest> {
    const begin = this.#begin!
    const sha = this.#hash.digest('hex')
    if (this.#file !== undefined) throw new BackupInvalidError('backup stream: ended inside a file')
    if (end.rows !== this.#rows || end.rows !== begin.snapshot.rows || end.storeBytes !== this.#storeBytes || end.storeSha256 !== sha) {
      throw new BackupInvalidError(`backup stream: the agent sent ${end.rows} rows (${end.storeBytes} bytes, sha-256 ${end.storeSha256}), ${this.#rows} arrived (${this.#storeBytes} bytes, sha-256 ${sha}); run the backup again`)
    }
    await this.#store!.sync()
    await this.#store!.close()
    this.#store = undefined
    const manifest: BackupManifest = {
      kind: 'labmesh-backup',
      format: BACKUP_FORMAT,
      ...begin.snapshot,
      createdAt: begin.createdAt,
      peerId: begin.peerId,
      online: this.#options.online,
      storeBytes: this.#storeBytes,
      storeSha256: sha,
      files: begin.files
    }
    const handle = await open(join(this.#dir, MANIFEST_FILE), 'wx')
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`)
    await handle.sync()
    await handle.close()
    this.#options.onProgress?.(this.#meter!.report(true))
    return manifest
  }

  #report (): void {
    this.#options.onProgress?.(this.#meter!.report())
  }

  async close (): Promise<void> {
    await this.#store?.close().catch(() => {})
    await this.#file?.handle.close().catch(() => {})
  }
}
