#!/usr/bin/env node
// Cold start to healthy, and idle RSS, for `galley serve` on SQLite, against a bare Node HTTP server
// measured in the same run as the baseline. Usage: npm run bench:startup [-- --runs 10]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../bin/galley.js', import.meta.url))
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7
const BASELINE = `require('http').createServer((q,s)=>s.end('{}')).listen(0,'127.0.0.1',function(){console.log('serving on http://127.0.0.1:'+this.address().port)})`

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
}

/** Spawns a server, polls its health URL; returns ms from spawn to the first 200, and idle RSS. */
async function measure(args, healthPath) {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const deadline = Date.now() + 20_000
  let url
  while (!url) {
    if (Date.now() > deadline) throw new Error(`no address printed:\n${out}`)
    url = /serving on (http:\/\/\S+)/.exec(out)?.[1]
    if (!url) await sleep(2)
  }
  let ms
  while (ms === undefined) {
    if (Date.now() > deadline) throw new Error('not healthy in time')
    try {
      const r = await fetch(url + healthPath)
      if (r.status === 200) ms = performance.now() - t0
    } catch {
      await sleep(2)
    }
  }
  await sleep(1500) // let start-up garbage settle before reading idle RSS
  const rss = rssMiB(child.pid)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return { ms, rss }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function series(name, make) {
  const results = []
  for (let i = 0; i < RUNS; i++) results.push(await make(i))
  const ms = median(results.map((r) => r.ms))
  const rss = median(results.map((r) => r.rss))
  console.log(
    `${name.padEnd(34)} start ${ms.toFixed(0).padStart(5)} ms   idle RSS ${rss.toFixed(1).padStart(6)} MiB   (median of ${RUNS})`,
  )
  return { ms, rss }
}

const base = await series('baseline: bare node:http', () => measure(['-e', BASELINE], '/'))
const dirs = []
const fresh = await series('galley, fresh data dir (migrations)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'galley-bench-'))
  dirs.push(dir)
  return measure([BIN, 'serve', '--http', '127.0.0.1:0', '--dir', dir, '--log-level', 'warn'], '/api/health')
})
const warm = await series('galley, existing data dir', () =>
  measure([BIN, 'serve', '--http', '127.0.0.1:0', '--dir', dirs[0], '--log-level', 'warn'], '/api/health'),
)
for (const d of dirs) rmSync(d, { recursive: true, force: true })

console.log(
  `\nratios vs baseline: fresh ${(fresh.ms / base.ms).toFixed(2)}x time, existing ${(warm.ms / base.ms).toFixed(2)}x time, ` +
    `${(warm.rss / base.rss).toFixed(2)}x RSS`,
)
console.log(
  `goal: start < 1000 ms: ${fresh.ms < 1000 && warm.ms < 1000 ? 'met' : 'NOT met'}; idle RSS < 100 MiB: ${warm.rss < 100 ? 'met' : 'NOT met'}`,
)
