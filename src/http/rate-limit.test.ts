import type { FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import type { CollectionService } from '../schema/index.js'
import { defaultSettings, type RateLimitRule, type SettingsService } from '../settings/index.js'
import { findRateLimitRule, RateLimiter, routeKey, routeTags } from './rate-limit.js'

const rule = (label: string, audience: RateLimitRule['audience'] = ''): RateLimitRule => ({
  label,
  audience,
  duration: 1,
  maxRequests: 1,
})

describe('findRateLimitRule (§1.6)', () => {
  const labels = [
    'posts:create',
    '*:create',
    'POST /api/collections/posts/records',
    '/api/collections/posts/records',
  ]

  it('takes labels in order: collection tag, any-collection tag, method path, path', () => {
    const all = [
      rule('/api/'),
      rule('POST /api/collections/posts/records'),
      rule('*:create'),
      rule('posts:create'),
    ]
    expect(findRateLimitRule(all, labels, false)?.label).toBe('posts:create')
    expect(findRateLimitRule(all.slice(0, 3), labels, false)?.label).toBe('*:create')
    expect(findRateLimitRule(all.slice(0, 2), labels, false)?.label).toBe(
      'POST /api/collections/posts/records',
    )
    expect(findRateLimitRule(all.slice(0, 1), labels, false)?.label).toBe('/api/')
    expect(findRateLimitRule([rule('other:create'), rule('/nope/')], labels, false)).toBeUndefined()
  })

  it('a prefix label ends with / and matches the path or below it; the longest wins', () => {
    const rules = [rule('/api/'), rule('/api/collections/posts/'), rule('/api/collections/')]
    expect(findRateLimitRule(rules, labels, false)?.label).toBe('/api/collections/posts/')
    expect(findRateLimitRule([rule('/api/collections/posts/records/')], labels, false)?.label).toBe(
      '/api/collections/posts/records/',
    )
    // Without the slash it is an exact label.
    expect(findRateLimitRule([rule('/api')], labels, false)).toBeUndefined()
    expect(findRateLimitRule([rule('POST /api/')], labels, false)?.label).toBe('POST /api/')
    expect(findRateLimitRule([rule('GET /api/')], labels, false)).toBeUndefined()
  })

  it('audience: "" for all, @guest only without auth, @auth only with', () => {
    const rules = [rule('*:create', '@auth'), rule('/api/', '@guest')]
    expect(findRateLimitRule(rules, labels, true)?.label).toBe('*:create')
    expect(findRateLimitRule(rules, labels, false)?.label).toBe('/api/')
  })

  it('a bare tag label matches nothing PocketBase generates', () => {
    expect(findRateLimitRule([rule('create')], labels, false)).toBeUndefined()
  })
})

describe('route tags', () => {
  it('names routes by method and pattern whatever the parameter names', () => {
    expect(routeKey('HEAD', '/api/collections/:collection/records/:id')).toBe(
      'GET /api/collections/:/records/:',
    )
    expect(routeTags('POST', '/api/collections/:c/auth-with-password')).toEqual(['authWithPassword', 'auth'])
    expect(routeTags('POST', '/api/collections/:collectionIdOrName/request-otp')).toEqual(['requestOTP'])
    expect(routeTags('GET', '/api/files/:c/:r/:f')).toEqual(['file'])
    expect(routeTags('GET', '/api/health')).toBeUndefined()
  })
})

describe('RateLimiter clients', () => {
  const limiter = (excludedIPs: string[] = []) => {
    const s = defaultSettings()
    s.rateLimits = { enabled: true, excludedIPs, rules: [{ ...rule('/api/'), maxRequests: 2, duration: 60 }] }
    const settings = { get: () => s } as unknown as SettingsService
    return new RateLimiter(settings, { find: () => undefined } as unknown as CollectionService)
  }
  /** A request as the limiter reads it: a guest GET of /api/health from `clientIp`. */
  const from = (clientIp: string) =>
    ({
      method: 'GET',
      url: '/api/health',
      clientIp,
      actor: undefined,
      routeOptions: {},
    }) as unknown as FastifyRequest
  const statuses = (l: RateLimiter, ips: string[]) => ips.map((ip) => l.check(from(ip))?.status ?? 200)

  it('a request without a client address is counted like any client, not exempt', () => {
    expect(statuses(limiter(), ['', '', '', ''])).toEqual([200, 200, 429, 429])
    // excludedIPs cannot name it either.
    expect(statuses(limiter(['']), ['', '', ''])).toEqual([200, 200, 429])
  })

  it('IPv6 clients are counted by /64; IPv4 by address', () => {
    const l = limiter()
    expect(statuses(l, ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2::3'])).toEqual([
      200, 200, 429,
    ])
    expect(statuses(l, ['2001:db8:1:3::1', '10.0.0.1', '10.0.0.2'])).toEqual([200, 200, 200])
  })

  it('excludedIPs stay exact addresses', () => {
    const l = limiter(['2001:db8:1:2::1'])
    expect(statuses(l, ['2001:db8:1:2::1', '2001:db8:1:2::1', '2001:db8:1:2::1'])).toEqual([200, 200, 200])
    expect(statuses(l, ['2001:db8:1:2::2', '2001:db8:1:2::3', '2001:db8:1:2::4'])).toEqual([200, 200, 429])
  })
})
