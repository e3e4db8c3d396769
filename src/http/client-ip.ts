import { BlockList, isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ClientInfo } from '../auth/index.js'
import type { Settings, SettingsService } from '../settings/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The client's IP address (§13.2 `trustedProxy`): the socket's peer unless trusted proxy
     * headers are configured; normalised (IPv4-mapped IPv6 as IPv4, IPv6 in its canonical form).
     */
    readonly clientIp: string
  }
}

const MAPPED_V4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/

/**
 * One address in its canonical text, or undefined when `raw` is not an IP address. IPv6 goes
 * through the WHATWG URL serializer (lower case, longest zero run compressed), so every spelling of
 * an address is one key; an IPv4-mapped IPv6 address is its IPv4 address; a zone id is dropped.
 */
export function normalizeIp(raw: string): string | undefined {
  const s = raw.trim()
  const kind = isIP(s)
  if (kind === 4) return s
  if (kind !== 6) return undefined
  const address = s.split('%')[0]!
  let canonical: string
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  } catch {
    return undefined
  }
  const mapped = MAPPED_V4.exec(canonical)
  if (!mapped) return canonical
  const hi = parseInt(mapped[1]!, 16)
  const lo = parseInt(mapped[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** The last value of header `name` (case-insensitive) in Node's raw header list; proxies append. */
function lastHeader(rawHeaders: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase()
  for (let i = rawHeaders.length - 2; i >= 0; i -= 2)
    if (rawHeaders[i]!.toLowerCase() === lower) return rawHeaders[i + 1]
  return undefined
}

/**
 * PocketBase's `RealIP`: with trusted proxy headers configured, the first of them that holds a
 * valid address gives it (the rightmost valid entry of its last occurrence, or the leftmost with
 * `useLeftmostIP`); invalid entries are skipped. Otherwise, and without configuration whatever the
 * client sends, the socket's peer address.
 */
export function resolveClientIp(
  socketAddress: string | undefined,
  rawHeaders: readonly string[],
  trustedProxy: Readonly<Settings['trustedProxy']>,
): string {
  for (const header of trustedProxy.headers) {
    const value = lastHeader(rawHeaders, header)
    if (!value) continue
    const parts = value.split(',')
    if (!trustedProxy.useLeftmostIP) parts.reverse()
    for (const part of parts) {
      const ip = normalizeIp(part)
      if (ip) return ip
    }
  }
  return (socketAddress && normalizeIp(socketAddress)) ?? ''
}

/** Decorates every request with `clientIp`, read from the settings in force at the time. */
export function registerClientIp(app: FastifyInstance, settings: SettingsService): void {
  app.decorateRequest('clientIp', {
    getter(this: FastifyRequest): string {
      const proxy = settings.get().trustedProxy
      const socket = this.raw.socket?.remoteAddress
      return proxy.headers.length === 0
        ? ((socket && normalizeIp(socket)) ?? '')
        : resolveClientIp(socket, this.raw.rawHeaders, proxy)
    },
  })
}

/** `AuthOptions.client`: the client's address and user agent, for the auth services. */
export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent']
  return { ip: req.clientIp, userAgent: typeof ua === 'string' ? ua : '' }
}

/**
 * The key a per-client limit counts under: the address itself for IPv4, the /64 network for IPv6,
 * since one IPv6 host commonly holds a whole /64 and could otherwise rotate through it.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip
  const [head = '', tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return `${groups.slice(0, 4).join(':')}::/64`
}

const PRIVATE = new BlockList()
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6')

/**
 * Whether a normalised address is loopback, private (RFC 1918, IPv6 ULA), link-local or carrier-grade
 * NAT space: where a reverse proxy or a NAT usually sits, so many clients may share it.
 */
export function isPrivateAddress(ip: string): boolean {
  const kind = isIP(ip)
  return kind !== 0 && PRIVATE.check(ip, kind === 4 ? 'ipv4' : 'ipv6')
}
