import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { newRecordId } from '../lib/index.js'
import type { FileStore, StoredFileInfo } from '../records/index.js'
import { keySegments } from './file-key.js'

/** Files being written start so (renamed into place when complete); never listed. */
const TEMP_PREFIX = '.tmp_'

/**
 * The local-disk file store: key `<collectionId>/<recordId>/<filename>` is the file
 * `<root>/<collectionId>/<recordId>/<filename>`. Every key is checked segment by segment and the
 * resolved path must stay inside the root, so no key reaches outside it. A file is written under
 * a temporary name beside its final one and renamed when complete: a reader never sees half a file.
 */
export class LocalFileStore implements FileStore {
  readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
  }

  #path(key: string, prefix = false): string {
    const parts = keySegments(key, prefix)
    const path = resolve(this.root, ...parts)
    const rel = relative(this.root, path)
    if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..'))
      throw new Error(`file key outside storage ${JSON.stringify(key)}`)
    return path
  }

  async put(key: string, body: Readable): Promise<void> {
    const path = this.#path(key)
    await mkdir(dirname(path), { recursive: true })
    const temp = join(dirname(path), `${TEMP_PREFIX}${newRecordId()}`)
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }))
      await rename(temp, path)
    } catch (err) {
      await unlink(temp).catch(() => undefined)
      throw err
    }
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.#path(key)
    await mkdir(dirname(target), { recursive: true })
    try {
      await rename(path, target)
    } catch (err) {
      // Another file system: copied (and the temporary file is left to its owner).
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
      await this.put(key, createReadStream(path))
    }
  }

  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const path = this.#path(key)
    const stream = createReadStream(path, range)
    await new Promise<void>((res, rej) => {
      stream.once('open', () => res())
      stream.once('error', rej)
    })
    return stream
  }

  async stat(key: string): Promise<StoredFileInfo | undefined> {
    try {
      const s = await stat(this.#path(key))
      return s.isFile() ? { size: s.size, modified: s.mtime } : undefined
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true })
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.#path(prefix, true), { recursive: true, force: true })
  }

  async sweepTemporary(olderThan: Date): Promise<number> {
    let removed = 0
    for (const e of await readdir(this.root, { withFileTypes: true, recursive: true }).catch(() => [])) {
      if (!e.isFile() || !e.name.startsWith(TEMP_PREFIX)) continue
      const path = join(e.parentPath, e.name)
      const s = await stat(path).catch(() => undefined)
      if (!s || s.mtime > olderThan) continue
      await unlink(path).catch(() => undefined)
      removed++
    }
    return removed
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.#path(prefix, true)
    const out: string[] = []
    const walk = async (dir: string): Promise<void> => {
      let entries
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        throw err
      }
      for (const e of entries) {
        const full = join(dir, e.name)
        if (e.isDirectory()) await walk(full)
        else if (e.isFile() && !e.name.startsWith(TEMP_PREFIX))
          out.push(relative(this.root, full).split(sep).join('/'))
      }
    }
    await walk(base)
    return out.sort()
  }
}
