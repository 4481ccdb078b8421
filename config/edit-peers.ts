/**
 * Changing an admin's config file from code (invitations): a peer entry is
 * spliced into the YAML text at the end of its `peers` list, and every other
 * byte — comments, blank lines, key order, alignment — stays as the admin
 * wrote it. The yaml package's Document API finds where the list is (its
 * node ranges); only the new entry is rendered by it.
 *
 * A changed text is validated with the same schema and checks as at start
 * (parseConfigText) before anyone writes it; `commitConfigEdit` writes it
 * atomically, and refuses if the file changed since it was read.
 */
import { constants } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Document, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml'
import { writeFileAtomic } from './atomic-write.js'
import { ConfigError } from './errors.js'
import { parseConfigText, type LoadedConfig } from './load.js'

/** A peer as an invitation adds it: the rest of its keys take their defaults. */
export interface PeerEntryInput {
  readonly name: string
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly pull: boolean
}

/**
 * `text` with `entry` appended to its `peers` list (made a block list if it
 * was `[]`, null or missing), preceded by a comment line `note`.
 */
export function addPeerToConfigText (text: string, entry: PeerEntryInput, note: string, file?: string): string {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) throw new ConfigError([{ path: '(yaml)', message: doc.errors[0]!.message.split('\n')[0] ?? 'YAML syntax error', fix: 'correct the YAML syntax at that line, then try again' }], file)
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const root = doc.contents
  if (root !== null && !isMap(root)) throw new ConfigError([{ path: '(top level)', message: 'is not a mapping of keys', fix: 'start from `labmesh init` or config/examples/' }], file)
  const pair = root?.items.find((p) => isScalar(p.key) && p.key.value === 'peers')
  if (pair === undefined) {
    const head = text === '' || text.endsWith('\n') ? text : text + eol
    return `${head}peers:${eol}${renderItems([entry], '  ', eol, note)}`
  }
  const value = pair.value as Node | null
  const keyStart = (pair.key as Node).range![0]
  const indent = ' '.repeat(columnOf(text, keyStart) + 2)
  if (isSeq(value) && value.flow !== true && value.items.length > 0) {
    // a block list: the new item goes right after its last one, indented like its first
    const end = value.range![1]
    const itemIndent = ' '.repeat(columnOf(text, value.range![0]))
    const before = text.slice(0, end)
    return (before.endsWith('\n') ? before : before + eol) + renderItems([entry], itemIndent, eol, note) + text.slice(end)
  }
  let existing: unknown[] = []
  if (isSeq(value)) existing = value.toJSON() as unknown[]
  else if (!(value === null || (isScalar(value) && value.value === null))) {
    throw new ConfigError([{ path: 'peers', message: 'is not a list', fix: 'make peers a list of peer entries (see config/examples/)' }], file)
  }
  // `peers: []`, `peers: ~` or `peers:` (or a flow list): the value goes, a block list follows the key's line
  const [start, end] = value === null ? [(pair.key as Node).range![1], (pair.key as Node).range![1]] : [value.range![0], value.range![1]]
  const lineEnd = text.indexOf('\n', end)
  const cut = text.slice(0, start).replace(/[ \t]+$/, '') + text.slice(end, lineEnd < 0 ? text.length : lineEnd + 1)
  const head = cut.endsWith('\n') ? cut : cut + eol
  return head + renderItems([...existing, entry], indent, eol, note) + (lineEnd < 0 ? '' : text.slice(lineEnd + 1))
}

/** `items` as a block list, each line indented by `indent`; the last item gets the comment `note` */
function renderItems (items: readonly unknown[], indent: string, eol: string, note: string): string {
  const doc = new Document(items)
  const seq = doc.contents
  if (isSeq(seq)) {
    for (const item of seq.items) {
      const addrs = isMap(item) ? item.get('addrs', true) : undefined
      if (isSeq(addrs)) addrs.flow = true
    }
    const last = seq.items[seq.items.length - 1]
    if (last !== undefined && last !== null) (last as Node).commentBefore = ` ${note}`
  }
  const lines = doc.toString({ flowCollectionPadding: false, lineWidth: 0 }).replace(/\n$/, '').split('\n')
  return lines.map((line) => indent + line).join(eol) + eol
}

function columnOf (text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

/** A config file's new text, validated, ready to write over the text it was made from. */
export interface ConfigEdit {
  readonly file: string
  /** the text it was made from, to see that no one changed the file meanwhile */
  readonly original: string
  readonly text: string
  readonly config: LoadedConfig
}

/**
 * Read `file`, edit its text and validate the result as a start would
 * (every problem by field: ConfigError). Nothing is written.
 */
export async function prepareConfigEdit (file: string, edit: (text: string) => string, env: NodeJS.ProcessEnv = {}): Promise<ConfigEdit> {
  const original = await readConfigText(file)
  await assertWritable(file)
  const text = edit(original)
  return { file, original, text, config: parseConfigText(text, file, env) }
}

/** Write a prepared edit atomically, unless the file changed since it was read (then nothing is written). */
export async function commitConfigEdit (edit: ConfigEdit): Promise<void> {
  if (await readConfigText(edit.file) !== edit.original) {
    throw new ConfigError([{ path: '(file)', message: 'changed while labmesh was editing it', fix: 'try again; labmesh reads it afresh' }], edit.file)
  }
  try {
    await writeFileAtomic(edit.file, edit.text)
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, fix: 'free disk space or fix the permissions of the file and its folder, then try again' }], edit.file)
  }
}

/** The file is replaced by a rename in its folder: both must be writable by this process. */
async function assertWritable (file: string): Promise<void> {
  for (const path of [file, dirname(file)]) {
    try {
      await access(path, constants.W_OK)
    } catch (err) {
      throw new ConfigError([{
        path: '(file)',
        message: `${path} cannot be written by this agent (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        fix: 'let the user the agent runs as write the config file and its folder (labmesh replaces the file atomically), or add the peer by hand and run `labmesh reload`'
      }], file)
    }
  }
}

async function readConfigText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, fix: 'check the path and the file\'s permissions' }], file)
  }
}
