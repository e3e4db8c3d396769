import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_CSP, ADMIN_UI_DIR, adminRoutes } from '../src/http/routes/admin-ui.js'
import { createStore, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

/** A raw GET: fetch() would normalize `..` away before sending. */
function rawGet(url: string, path: string, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(`${url}${path}`, { method, path }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}

describe('the dashboard build served at /_/', () => {
  let store: TestStore
  let g: RunningGalley

  beforeAll(async () => {
    if (!existsSync(join(ADMIN_UI_DIR, 'index.html')))
      throw new Error(`the dashboard is not built in ${ADMIN_UI_DIR}: run npm run build first`)
    store = await createStore('sqlite')
    g = await startGalley(store)
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  it('redirects /_ to /_/ and serves index.html there with the CSP and no-cache', async () => {
    const r = await rawGet(g.url, '/_')
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe('/_/')
    for (const path of ['/_/', '/_/index.html', '/_/?x=1']) {
      const page = await rawGet(g.url, path)
      expect(page.status).toBe(200)
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(page.headers['cache-control']).toBe('no-cache')
      expect(page.headers['content-security-policy']).toBe(ADMIN_CSP)
      expect(page.headers['x-content-type-options']).toBe('nosniff')
      expect(page.body).toMatch(/<script type="module" crossorigin src="\/_\/assets\/[\w-]+\.js">/)
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/) // no inline script
    }
  })

  it('serves hashed assets as immutable with their content type, and HEAD too', async () => {
    const page = await rawGet(g.url, '/_/')
    const js = /src="\/_\/(assets\/[\w-]+\.js)"/.exec(page.body)![1]!
    const css = /href="\/_\/(assets\/[\w-]+\.css)"/.exec(page.body)![1]!
    const a = await rawGet(g.url, `/_/${js}`)
    expect(a.status).toBe(200)
    expect(a.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(a.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(a.headers['content-security-policy']).toBeUndefined()
    const c = await rawGet(g.url, `/_/${css}`)
    expect(c.headers['content-type']).toBe('text/css; charset=utf-8')
    const head = await rawGet(g.url, `/_/${js}`, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    const icon = await rawGet(g.url, '/_/favicon.svg')
    expect(icon.headers['content-type']).toBe('image/svg+xml')
    expect(icon.headers['cache-control']).toBe('no-cache')
  })

  it('keeps the first load under 300 KB of gzipped JavaScript', async () => {
    const page = await rawGet(g.url, '/_/')
    const scripts = [...page.body.matchAll(/(?:src|href)="\/_\/(assets\/[\w-]+\.js)"/g)].map((m) => m[1]!)
    expect(scripts.length).toBeGreaterThan(0)
    let gzipped = 0
    for (const path of scripts) gzipped += gzipSync(readFileSync(join(ADMIN_UI_DIR, path))).length
    console.log(
      `dashboard first load: ${scripts.length} script(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`,
    )
    expect(gzipped).toBeLessThan(300 * 1024)
  })

  it('answers the JSON 404 for missing files and every traversal attempt', async () => {
    const paths = [
      '/_/assets/nope.js',
      '/_/assets/',
      '/_/nope',
      '/_/../package.json',
      '/_/..%2fpackage.json',
      '/_/%2e%2e/%2e%2e/package.json',
      '/_/assets/..%2F..%2F..%2Fpackage.json',
      '/_/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fsrc%2fapp.ts',
      '/_//etc/passwd',
      '/_/%00',
      '/_/index.html%00.js',
      '/_/assets\\..\\..\\package.json',
    ]
    for (const path of paths) {
      const r = await rawGet(g.url, path)
      expect([400, 404], path).toContain(r.status)
      expect(JSON.parse(r.body), path).toMatchObject({ status: r.status })
      expect(r.body).not.toContain('"name": "galley"')
    }
  })
})

describe('the dashboard route over other folders', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('says how to build it when the folder is missing (503, text)', async () => {
    const app = Fastify()
    await app.register(adminRoutes(join(tmpdir(), 'galley-no-such-build')))
    const r = await app.inject('/_/')
    expect(r.statusCode).toBe(503)
    expect(r.body).toContain('npm run build')
    await app.close()
  })

  it('never serves dot files nor files behind symlinks out of the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-ui-'))
    const outside = mkdtempSync(join(tmpdir(), 'galley-ui-out-'))
    dirs.push(dir, outside)
    mkdirSync(join(dir, 'assets'))
    mkdirSync(join(dir, '.vite'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html>')
    writeFileSync(join(dir, '.vite', 'manifest.json'), '{}')
    writeFileSync(join(dir, 'assets', 'a-1.js'), 'x')
    writeFileSync(join(outside, 'secret.txt'), 'secret')
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'assets', 'link.txt'))
    symlinkSync(outside, join(dir, 'out'))
    const app = Fastify()
    await app.register(adminRoutes(dir))
    expect((await app.inject('/_/assets/a-1.js')).statusCode).toBe(200)
    for (const path of ['/_/.vite/manifest.json', '/_/assets/link.txt', '/_/out/secret.txt'])
      expect((await app.inject(path)).statusCode, path).toBe(404)
    await app.close()
  })
})
