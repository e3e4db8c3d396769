import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'

describe('galley serve (the compiled CLI, as npm start runs it)', () => {
  let dir: string
  let server: GalleyProcess

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-serve-'))
    server = await startServe(['--dir', dir])
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers GET /api/health with PocketBase’s body', async () => {
    const res = await fetch(`${server.url}/api/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ message: 'API is healthy.', code: 200, data: {} })
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('x-xss-protection')).toBe('0')
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('sends the security headers on errors too', async () => {
    const res = await fetch(`${server.url}/api/nope`)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })

  it('answers HEAD /api/health with 200 and no body', async () => {
    const res = await fetch(`${server.url}/api/health`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
  })

  it('returns the JSON 404 for unknown routes, including a trailing slash', async () => {
    for (const path of ['/api/nope', '/api/health/', '/x']) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({
        status: 404,
        message: "The requested resource wasn't found.",
        data: {},
      })
    }
  })

  it('allows any origin by default and answers preflights', async () => {
    const res = await fetch(`${server.url}/api/health`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization',
      },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH')
  })

  it('rejects an unsupported content type with 400 and an oversized body with 413', async () => {
    const bad = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ status: 400, message: 'Unsupported Content-Type.', data: {} })
    // The server answers 413 from Content-Length without reading the body (and may close the socket
    // while a client is still writing), so send a first chunk only and read the response.
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const size = 32 * 1024 * 1024 + 1
      const req = httpRequest(`${server.url}/api/collections`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': size },
      })
      req.on('response', (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, body })
        })
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err)
      })
      // The declared length alone decides: send a first chunk and wait for the answer.
      req.write(Buffer.alloc(64 * 1024, 'a'))
    })
    expect(big.status).toBe(413)
    expect((JSON.parse(big.body) as { message: string }).message).toBe('Request entity too large.')
  })

  it('exits 0 on SIGTERM after draining', async () => {
    const other = await startServe(['--dir', dir + '-2'])
    try {
      expect(await other.stop('SIGTERM')).toBe(0)
    } finally {
      rmSync(dir + '-2', { recursive: true, force: true })
    }
  })
})

describe('configuration errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['bad --http', ['serve', '--http', 'nonsense'], /invalid --http/],
    ['port out of range', ['serve', '--http', '127.0.0.1:70000'], /port must be/],
    ['bad --db scheme', ['serve', '--db', 'mysql://x@y/z'], /only postgres:\/\//],
    ['bad --durability', ['serve', '--durability', 'sometimes'], /invalid --durability/],
    ['unknown flag', ['serve', '--nope'], /Unknown option/],
    ['unknown command', ['launch'], /unknown command/],
  ]
  for (const [name, args, pattern] of cases) {
    it(`${name}: one line on stderr, exit code 2`, async () => {
      const r = await runCli(args)
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(pattern)
    })
  }

  it('GALLEY_HTTP is read from the environment', async () => {
    const r = await runCli(['serve'], { GALLEY_HTTP: 'not-an-address' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/invalid --http "not-an-address"/)
  })
})
