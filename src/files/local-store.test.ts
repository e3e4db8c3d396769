import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { HOSTILE_KEYS } from './hostile-keys.test-helper.js'
import { LocalFileStore } from './local-store.js'

const dir = mkdtempSync(join(tmpdir(), 'galley-store-'))
const store = new LocalFileStore(join(dir, 'storage'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const text = async (s: Readable) => {
  let out = ''
  for await (const c of s) out += String(c)
  return out
}

describe('LocalFileStore', () => {
  it('puts, stats, reads ranges, lists and deletes', async () => {
    await store.put('c1/r1/a.txt', Readable.from([Buffer.from('0123456789')]))
    await store.put('c1/r1/b.txt', Readable.from([Buffer.from('b')]))
    await store.put('c1/r2/c.txt', Readable.from([Buffer.from('c')]))
    expect((await store.stat('c1/r1/a.txt'))?.size).toBe(10)
    expect(await store.stat('c1/r1/none.txt')).toBeUndefined()
    expect(await text(await store.open('c1/r1/a.txt', { start: 2, end: 4 }))).toBe('234')
    expect(await store.list('c1/')).toEqual(['c1/r1/a.txt', 'c1/r1/b.txt', 'c1/r2/c.txt'])
    await store.delete('c1/r1/a.txt')
    await store.delete('c1/r1/a.txt')
    expect(await store.list('c1/r1/')).toEqual(['c1/r1/b.txt'])
    await store.deletePrefix('c1/r1/')
    expect(await store.list('c1/')).toEqual(['c1/r2/c.txt'])
    // no temporary file is left beside the stored ones
    expect(readdirSync(join(dir, 'storage', 'c1', 'r2'))).toEqual(['c.txt'])
  })

  it('moves a local file in', async () => {
    const temp = join(dir, 'upload')
    writeFileSync(temp, 'moved')
    await store.putFile('c2/r1/m.txt', temp)
    expect(existsSync(temp)).toBe(false)
    expect(await text(await store.open('c2/r1/m.txt'))).toBe('moved')
    await store.deletePrefix('c2/')
  })

  it('sweeps its own temporary files older than a date, and only those', async () => {
    await store.put('c3/r1/kept.txt', Readable.from([Buffer.from('k')]))
    const folder = join(dir, 'storage', 'c3', 'r1', 'thumbs_kept.txt')
    mkdirSync(folder, { recursive: true })
    const old = join(folder, '.tmp_crashed')
    const young = join(dir, 'storage', 'c3', 'r1', '.tmp_writing')
    writeFileSync(old, 'half')
    writeFileSync(young, 'half')
    const hourAgo = new Date(Date.now() - 3_600_000)
    utimesSync(old, hourAgo, hourAgo)
    utimesSync(join(dir, 'storage', 'c3', 'r1', 'kept.txt'), hourAgo, hourAgo)
    expect(await store.sweepTemporary(new Date(Date.now() - 60_000))).toBe(1)
    expect(existsSync(old)).toBe(false)
    expect(existsSync(young)).toBe(true)
    expect(await store.list('c3/')).toEqual(['c3/r1/kept.txt'])
    await store.deletePrefix('c3/')
  })

  it.each(HOSTILE_KEYS)('refuses the key %j', async (key) => {
    await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(/file key/)
    await expect(store.stat(key)).rejects.toThrow(/file key/)
    await expect(store.deletePrefix(key)).rejects.toThrow(/file key/)
    expect(readdirSync(dir)).toEqual(['storage'])
  })
})
