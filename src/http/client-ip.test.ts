import { describe, expect, it } from 'vitest'
import { clientKey, normalizeIp, resolveClientIp } from './client-ip.js'

const none = { headers: [], useLeftmostIP: false }
const xff = { headers: ['X-Forwarded-For'], useLeftmostIP: false }

describe('normalizeIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    [' 10.0.0.1 ', '10.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s -> %s', (raw, ip) => expect(normalizeIp(raw)).toBe(ip))

  it.each(['', 'localhost', '1.2.3.999', '1.2.3.4:80', '[::1]', 'unknown', '1.2.3'])('refuses %j', (raw) =>
    expect(normalizeIp(raw)).toBeUndefined(),
  )
})

describe('resolveClientIp', () => {
  it('ignores forwarding headers unless configured (A38)', () => {
    expect(resolveClientIp('::ffff:127.0.0.1', ['X-Forwarded-For', '6.6.6.6'], none)).toBe('127.0.0.1')
  })

  it('takes the rightmost valid address of the last occurrence, or the leftmost when asked', () => {
    const raw = ['x-forwarded-for', '1.1.1.1, 2.2.2.2', 'X-Forwarded-For', '6.6.6.6, 3.3.3.3 , junk']
    expect(resolveClientIp('127.0.0.1', raw, xff)).toBe('3.3.3.3')
    expect(resolveClientIp('127.0.0.1', raw, { ...xff, useLeftmostIP: true })).toBe('6.6.6.6')
  })

  it('moves to the next listed header, then the socket, when nothing valid is found', () => {
    const cfg = { headers: ['CF-Connecting-IP', 'X-Real-IP'], useLeftmostIP: false }
    expect(
      resolveClientIp('127.0.0.1', ['CF-Connecting-IP', 'nope', 'X-Real-IP', '::ffff:9.9.9.9'], cfg),
    ).toBe('9.9.9.9')
    expect(resolveClientIp('127.0.0.1', ['CF-Connecting-IP', 'nope, also-nope'], cfg)).toBe('127.0.0.1')
    expect(resolveClientIp(undefined, [], cfg)).toBe('')
  })
})

describe('clientKey', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(clientKey('10.0.0.1')).toBe('10.0.0.1')
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKey('::1')).toBe('0:0:0:0::/64')
  })
})
