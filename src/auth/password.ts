import { availableParallelism } from 'node:os'
import { hash, verify } from '@node-rs/argon2'
import { GalleyError, randomString, Semaphore } from '../lib/index.js'

/**
 * Argon2id with OWASP's baseline parameters (19 MiB, 2 passes). Hashing is deliberately expensive,
 * so at most `HASH_CONCURRENCY` run at once and a bounded queue waits: a login flood gets 429s
 * instead of starving every other request of CPU. One core is always left to the event loop (the
 * hashes run on libuv's pool, 4 threads by default, so this stays below it up to 5 cores): with 2
 * hashes on 2 cores a 200/s flood of wrong passwords took other requests' p99 to 2-3x idle; with 1,
 * within 2x (test/login-flood.test.ts).
 */
export const HASH_CONCURRENCY = Math.max(1, availableParallelism() - 1)
/** Hashes waiting for a slot; more are refused with a 429 at once (at ~20 ms a hash: ~1.3 s of work). */
export const HASH_QUEUE = 64
// `algorithm: 2` is Algorithm.Argon2id (an ambient const enum, not importable under verbatimModuleSyntax).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

const gate = new Semaphore(HASH_CONCURRENCY, HASH_QUEUE)

async function gated<T>(fn: () => Promise<T>): Promise<T> {
  const r = await gate.run(fn)
  if (!r) throw new GalleyError('RATE_LIMITED')
  return r.value
}

export function hashPassword(password: string): Promise<string> {
  return gated(() => hash(password, OPTIONS))
}

/** Verifies against an argon2id hash; any other or malformed hash is a mismatch, never an error. */
export function verifyPassword(hashed: string, password: string): Promise<boolean> {
  return gated(async () => {
    if (!hashed.startsWith('$argon2')) return false
    try {
      return await verify(hashed, password)
    } catch {
      return false
    }
  })
}

let dummy: Promise<string> | undefined
/**
 * Spends the same work as a real verification, for identities that do not exist, so response
 * times do not tell which emails are registered.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummy ??= hash(randomString(32), OPTIONS)
  await verifyPassword(await dummy, password)
  return false
}
