import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keySegments } from './file-key.js'
import { HOSTILE_KEYS } from './hostile-keys.test-helper.js'
import { S3FileStore } from './s3-store.js'

// Keys and prefixes: the same segments as the local store, and no request is ever sent for a bad
// one (the endpoint is a port that had a listener and no longer has: any call would be refused
// there, so a "file key" error proves the key was turned down before the network).
const dir = mkdtempSync(join(tmpdir(), 'galley-s3keys-'))
let store: S3FileStore
beforeAll(async () => {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  store = new S3FileStore(
    {
      enabled: true,
      bucket: 'galley-keys',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: 'k',
      secret: 's',
      forcePathStyle: true,
    },
    { tempDir: dir },
  )
})
afterAll(() => {
  store.retire()
  rmSync(dir, { recursive: true, force: true })
})

const BAD = HOSTILE_KEYS

describe('S3 keys', () => {
  it('keeps the local layout exactly: <collectionId>/<recordId>/<filename>', () => {
    expect(S3FileStore.objectKey('pbc_1/abc123/photo_x1y2z3a4b5.png')).toBe(
      'pbc_1/abc123/photo_x1y2z3a4b5.png',
    )
    expect(S3FileStore.objectKey('c/r/thumbs_a.png/100x100_a.png')).toBe('c/r/thumbs_a.png/100x100_a.png')
    expect(S3FileStore.objectKey(`c/r/${'x'.repeat(255)}`)).toHaveLength(4 + 255)
    expect(S3FileStore.objectKey('a/b/c/d/e/f/g/h')).toBe('a/b/c/d/e/f/g/h')
  })

  it('lists a folder by a prefix ending in /, so one record never matches another', () => {
    expect(S3FileStore.objectPrefix('c1/r1')).toBe('c1/r1/')
    expect(S3FileStore.objectPrefix('c1/r1/')).toBe('c1/r1/')
    expect(S3FileStore.objectPrefix('c1/')).toBe('c1/')
  })

  it.each(BAD)('refuses the key %j before any request', async (key) => {
    expect(() => keySegments(key)).toThrow(/file key/)
    expect(() => S3FileStore.objectKey(key)).toThrow(/file key/)
    await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(/file key/)
    await expect(store.putFile(key, join(dir, 'none'))).rejects.toThrow(/file key/)
    await expect(store.open(key)).rejects.toThrow(/file key/)
    await expect(store.stat(key)).rejects.toThrow(/file key/)
    await expect(store.delete(key)).rejects.toThrow(/file key/)
  })

  it.each([...BAD, '//', 'c1/r1//'])(
    'refuses the prefix %j: deletePrefix and list never reach the whole bucket or another folder',
    async (prefix) => {
      expect(() => S3FileStore.objectPrefix(prefix)).toThrow(/file key/)
      await expect(store.deletePrefix(prefix)).rejects.toThrow(/file key/)
      await expect(store.list(prefix)).rejects.toThrow(/file key/)
    },
  )
})
