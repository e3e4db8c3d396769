import { Writable } from 'node:stream'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { signToken } from '../auth/index.js'
import type { CollectionService } from '../schema/index.js'
import { defaultSettings, type Settings, type SettingsService } from '../settings/index.js'
import { BruteForceGuard, emailChangeTarget, registerBruteForce } from './brute-force.js'
import { isPrivateAddress, registerClientIp } from './client-ip.js'

/** A settings service holding `s` (the guard and client IP only ever call `get`). */
const settingsOf = (s: Settings) => ({ get: () => s }) as unknown as SettingsService
const authCollections = { find: () => ({ id: 'c1', type: 'auth' }) } as unknown as CollectionService

async function app(settings: Settings) {
  const lines: { level: number; msg: string }[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as { level: number; msg: string })
      done()
    },
  })
  const logger: FastifyBaseLogger = pino({ level: 'warn' }, stream)
  const a = Fastify({ loggerInstance: logger })
  const service = settingsOf(settings)
  registerClientIp(a, service)
  registerBruteForce(a, new BruteForceGuard(service), authCollections)
  a.post('/api/collections/:c/auth-with-password', async (_req, reply) => reply.code(400).send({}))
  a.get('/api/health', async () => ({}))
  await a.ready()
  return { a, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) }
}

const signIn = (a: Awaited<ReturnType<typeof app>>['a'], remoteAddress: string) =>
  a.inject({
    method: 'POST',
    url: '/api/collections/users/auth-with-password',
    payload: { identity: 'a@b.co', password: 'x' },
    remoteAddress,
  })

describe('shared address warning', () => {
  it('warns once, at the first guarded attempt from a private peer without trustedProxy', async () => {
    const { a, warnings } = await app(defaultSettings())
    await a.inject({ method: 'GET', url: '/api/health', remoteAddress: '127.0.0.1' })
    expect(warnings()).toEqual([])
    for (let i = 0; i < 3; i++) expect((await signIn(a, '127.0.0.1')).statusCode).toBe(400)
    expect((await signIn(a, '10.1.2.3')).statusCode).toBe(400)
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatch(/share one address.*trustedProxy/)
    await a.close()
  })

  it('stays silent for public peers, and when trusted proxy headers are configured', async () => {
    const publicPeer = await app(defaultSettings())
    await signIn(publicPeer.a, '203.0.113.9')
    expect(publicPeer.warnings()).toEqual([])
    await publicPeer.a.close()
    const proxied = defaultSettings()
    proxied.trustedProxy.headers = ['X-Forwarded-For']
    const behindProxy = await app(proxied)
    await signIn(behindProxy.a, '127.0.0.1')
    expect(behindProxy.warnings()).toEqual([])
    await behindProxy.a.close()
  })

  it('private, loopback, link-local and CGNAT space; not public', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.31.255.1', '192.168.1.1', '169.254.0.1', '100.64.0.1'])
      expect(isPrivateAddress(ip)).toBe(true)
    for (const ip of ['::1', 'fd00::1', 'fe80::1']) expect(isPrivateAddress(ip)).toBe(true)
    for (const ip of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '', 'junk'])
      expect(isPrivateAddress(ip)).toBe(false)
  })
})

describe('confirm-email-change key', () => {
  it('the record id the token claims, else the token hash; never a free field', async () => {
    const token = await signToken({ id: 'rec1', collectionId: 'c1', type: 'emailChange' }, 'k', 60)
    const other = await signToken(
      { id: 'rec1', collectionId: 'c1', type: 'emailChange', newEmail: 'x' },
      'j',
      60,
    )
    expect(emailChangeTarget({ token, id: 'chosen', email: 'e' })).toEqual({
      scope: '\u0000record',
      identity: 'rec1',
    })
    expect(emailChangeTarget({ token: other })).toEqual(emailChangeTarget({ token }))
    const bad = emailChangeTarget({ token: 'a.b.c' })
    expect(bad.scope).toBe('\u0000token')
    expect(bad.identity).not.toBe('a.b.c')
    expect(emailChangeTarget({ token: 'a.b.d' }).identity).not.toBe(bad.identity)
    expect(emailChangeTarget({ id: 'chosen' }).identity).toBe('')
  })
})

describe('BruteForceGuard', () => {
  const limits = (): Settings => {
    const s = defaultSettings()
    s.bruteForce.perIP = { maxRequests: 2, duration: 60 }
    s.bruteForce.perIdentityAndIP = { maxRequests: 3, duration: 60 }
    return s
  }

  it('a client that succeeded on an identity skips the per-IP window for it, and only for it', () => {
    const guard = new BruteForceGuard(settingsOf(limits()))
    guard.begin('c1', 'victim', '10.0.0.1')!.succeeded()
    guard.begin('c1', 'x1', '10.0.0.1')
    guard.begin('c1', 'x2', '10.0.0.1')
    expect(() => guard.begin('c1', 'x3', '10.0.0.1')).toThrow('Too Many Requests.')
    // The victim is known from 10.0.0.1: its attempts skip the exhausted per-IP window ...
    for (let i = 0; i < 3; i++) expect(guard.begin('c1', 'victim', '10.0.0.1')).toBeDefined()
    // ... but not the identity-from-client window.
    expect(() => guard.begin('c1', 'victim', '10.0.0.1')).toThrow('Too Many Requests.')
    // Known in another scope or from another client counts for nothing.
    expect(() => guard.begin('c1\u0000record', 'victim', '10.0.0.1')).toThrow('Too Many Requests.')
    guard.begin('c1', 'y1', '10.0.0.2')
    guard.begin('c1', 'y2', '10.0.0.2')
    expect(() => guard.begin('c1', 'victim', '10.0.0.2')).toThrow('Too Many Requests.')
  })

  it('cancel gives the reservation back without remembering the client', () => {
    const guard = new BruteForceGuard(settingsOf(limits()))
    for (let i = 0; i < 5; i++) guard.begin('c1', 'v', '10.0.0.3')!.cancel()
    guard.begin('c1', 'a', '10.0.0.3')
    guard.begin('c1', 'b', '10.0.0.3')
    // Not known after cancels: v is refused like anyone once the per-IP window is spent.
    expect(() => guard.begin('c1', 'v', '10.0.0.3')).toThrow('Too Many Requests.')
  })

  it('an empty client address is one client, not an exemption', () => {
    const guard = new BruteForceGuard(settingsOf(limits()))
    guard.begin('c1', 'a', '')
    guard.begin('c1', 'b', '')
    expect(() => guard.begin('c1', 'c', '')).toThrow('Too Many Requests.')
  })
})
