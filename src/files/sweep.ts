import { readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Database } from '../db/index.js'
import { PeriodicTask, type Logger } from '../lib/index.js'
import type { FileStore } from '../records/index.js'
import { columnKind, type CollectionService } from '../schema/index.js'

/** Files younger than this are never swept: they may belong to a write not yet committed. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000
/** Record ids looked up per query. */
const IDS_PER_QUERY = 500

export interface SweepResult {
  /** Storage keys removed: files no record references. */
  readonly removed: string[]
  /** Temporary files removed: uploads and the store's own writes, left by a crash or a killed process. */
  readonly temps: number
}

/**
 * The orphan sweep (issue 6): removes stored files that no record references (a batch rolled back
 * after its uploads, a crash between storing and committing, a removal that failed after a commit),
 * thumbs of files no record references, and temporary uploads left in `uploadDir`, in both cases
 * only when older than `graceMs`, so files of writes still in flight are left alone. Collections
 * are read from the schema; storage folders of collections that no longer exist are not touched.
 */
export async function sweepOrphanFiles(
  database: Database,
  collections: CollectionService,
  store: FileStore,
  uploadDir: string | undefined,
  graceMs = SWEEP_GRACE_MS,
  now = Date.now(),
): Promise<SweepResult> {
  const removed: string[] = []
  const old = async (key: string) => {
    const info = await store.stat(key)
    return info !== undefined && now - info.modified.getTime() >= graceMs
  }
  for (const c of collections.all()) {
    const fields = c.fields.filter((f) => f.type === 'file')
    if (c.type === 'view' || fields.length === 0) continue
    const byRecord = new Map<string, string[]>()
    for (const key of await store.list(`${c.id}/`)) {
      const [, id, name] = key.split('/')
      if (id === undefined || name === undefined) continue
      const list = byRecord.get(id)
      if (list) list.push(key)
      else byRecord.set(id, [key])
    }
    const ids = [...byRecord.keys()]
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY)
      const rows = (await database.db
        .selectFrom(c.name)
        .select(['id', ...fields.map((f) => f.name)])
        .where('id', 'in', chunk)
        .execute()) as Record<string, unknown>[]
      const referenced = new Map<string, Set<string>>()
      for (const row of rows) {
        const names = new Set<string>()
        for (const f of fields) {
          const v = database.dialect.decode(columnKind(f), row[f.name])
          for (const n of Array.isArray(v) ? v : [v]) if (typeof n === 'string' && n !== '') names.add(n)
        }
        referenced.set(String(row.id), names)
      }
      for (const id of chunk) {
        const names = referenced.get(id)
        for (const key of byRecord.get(id)!) {
          if (names?.has(referencedName(key)) || !(await old(key))) continue
          await store.delete(key)
          removed.push(key)
        }
      }
    }
  }
  // the store's own half-written files (a thumb or copy cut short by a crash)
  let temps = (await store.sweepTemporary?.(new Date(now - graceMs))) ?? 0
  if (uploadDir) {
    let entries: string[] = []
    try {
      entries = await readdir(uploadDir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    for (const name of entries) {
      const path = join(uploadDir, name)
      const s = await stat(path).catch(() => undefined)
      if (!s?.isFile() || now - s.mtimeMs < graceMs) continue
      await unlink(path).catch(() => undefined)
      temps++
    }
  }
  return { removed, temps }
}

/** The file a key stands for: its own name, or for a thumb (`<c>/<r>/thumbs_<name>/<size>_<name>`) its original's. */
function referencedName(key: string): string {
  const parts = key.split('/')
  if (parts.length === 4 && parts[2]!.startsWith('thumbs_')) return parts[2]!.slice('thumbs_'.length)
  return parts[parts.length - 1]!
}

/** How often the orphan sweep runs. */
export const FILE_SWEEP_INTERVAL_MS = 60 * 60 * 1000

/**
 * Runs `sweep` at start and then every FILE_SWEEP_INTERVAL_MS (an unref'd timer). A failed sweep is
 * logged and the next one tries again; it never stops the process. Every instance may sweep: the
 * removals are idempotent and the grace period keeps in-flight writes safe.
 */
export class FileSweeper {
  readonly #task: PeriodicTask

  constructor(sweep: () => Promise<SweepResult>, logger: Logger) {
    this.#task = new PeriodicTask(async () => {
      try {
        const r = await sweep()
        if (r.removed.length + r.temps > 0) logger.info(r, 'orphan files removed')
      } catch (err) {
        logger.error({ err }, 'sweep of orphan files failed')
      }
    }, FILE_SWEEP_INTERVAL_MS)
  }

  start(): void {
    this.#task.start()
  }

  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.#task.stop()
  }
}
