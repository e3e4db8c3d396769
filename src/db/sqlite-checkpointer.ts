import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the checkpointer copies committed WAL frames into the database files. */
export const CHECKPOINT_INTERVAL_MS = 100
/**
 * The writing connection still checkpoints by itself past this many WAL pages (about 40 MB with
 * 4 KiB pages): the bound on the WAL if the checkpointer falls behind or stops.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000

// A CommonJS script (`eval` workers are): runs from the compiled server and from the TypeScript
// sources under the test runner alike, with no file of its own to locate.
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const conns = workerData.files.map((file) => {
  const db = new Database(file)
  db.pragma('busy_timeout = 1000')
  return db
})
const timer = setInterval(() => {
  for (const db of conns) {
    try {
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch (err) {
      parentPort.postMessage({ error: String(err && err.message) })
    }
  }
}, workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  for (const db of conns) db.close()
  parentPort.close()
})
`

/**
 * Checkpoints SQLite's write-ahead logs from a worker thread. A checkpoint copies the WAL into the
 * database file and syncs both: left to the writing connection (SQLite's default, every 1,000
 * pages), the commit that crosses the mark waits for that copy and sync, and with one connection
 * every other request waits behind it (about 6 ms each, every 60-odd record writes). A PASSIVE
 * checkpoint from another connection runs beside the writer and never blocks it; it changes
 * nothing of what a commit guarantees (the commit is in the WAL either way).
 */
export class SqliteCheckpointer {
  readonly #worker: Worker
  readonly #exited: Promise<void>

  constructor(
    files: readonly string[],
    onError: (message: string) => void,
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    this.#worker = new Worker(SCRIPT, { eval: true, workerData: { files, driver, intervalMs } })
    this.#worker.on('message', (m: { error?: string }) => {
      if (m.error) onError(m.error)
    })
    this.#worker.on('error', (err) => onError(err.message))
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()))
    // never what keeps the process alive
    this.#worker.unref()
  }

  /** Stops the worker after its current checkpoint, closing its connections. */
  async close(): Promise<void> {
    this.#worker.postMessage('close')
    const timer = setTimeout(() => void this.#worker.terminate(), 2_000)
    await this.#exited
    clearTimeout(timer)
  }
}
