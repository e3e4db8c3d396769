import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the checkpointer copies committed WAL frames into the database files. */
export const CHECKPOINT_INTERVAL_MS = 100
/**
 * The writing connection still checkpoints by itself past this many WAL pages (about 16 MB with
 * 4 KiB pages), four times fewer than SQLite's default. That checkpoint is what starts the WAL over:
 * under steady writes the worker's never finds the WAL fully copied when a write starts, so without
 * it the WAL would only grow. It finds little left to copy (the worker copied it), and it is the
 * bound on the WAL if the worker falls behind or stops.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 4_000
/** After the WAL starts over its file is cut back to this size (`journal_size_limit`). */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024

// A CommonJS script (`eval` workers are): runs from the compiled server and from the TypeScript
// sources under the test runner alike, with no file of its own to locate.
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const conns = workerData.files.map((file) => {
  const db = new Database(file)
  db.pragma('busy_timeout = 200')
  db.pragma('journal_size_limit = ' + workerData.sizeLimit)
  return db
})
let lastError = 0
const timer = setInterval(() => {
  for (const db of conns) {
    try {
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch (err) {
      // at most one report a minute (a full disk fails every tick)
      if (Date.now() - lastError > 60000) {
        lastError = Date.now()
        parentPort.postMessage({ error: String(err && err.message) })
      }
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
    this.#worker = new Worker(SCRIPT, {
      eval: true,
      workerData: { files, driver, intervalMs, sizeLimit: WAL_SIZE_LIMIT_BYTES },
    })
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
