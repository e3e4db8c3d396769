// Processes the benchmarks start: the Galley CLI, a baseline server, a throwaway PostgreSQL database.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../bin/galley.js', import.meta.url))
export const PG_URL = process.env.GALLEY_BENCH_PG_URL ?? process.env.GALLEY_TEST_PG_URL

/** Runs a command to completion; rejects with its output when it fails. */
export function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}: ${out}`))))
  })
}

/** Starts a server that prints "serving on <url>"; resolves with its url, pid and a stop(). */
export function serve(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no start: ${out}`)), 20_000)
    const onData = (d) => {
      out += d
      const m = /serving on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({
          url: m[1],
          pid: child.pid,
          stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))),
        })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
  })
}

/** A fresh PostgreSQL database on PG_URL, dropped by drop(). */
export async function createPgDatabase() {
  const pg = (await import('pg')).default
  const name = `galley_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}
