import { SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_INSTALL_FIELD_LENGTH, MAX_INSTALL_TOKEN_LENGTH, signToken } from '../src/auth/index.js'
import { isAuthCollection } from '../src/schema/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { runCli, startServe } from './helpers/process.js'

const EMAIL = 'first@example.com'
const PASSWORD = 'first superuser pass'
const INVALID_TOKEN = {
  status: 400,
  message: 'Invalid or expired install link: print a new one with `galley superuser install-link`.',
  data: { token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' } },
}
const EXISTS = { status: 403, message: 'A superuser already exists: sign in instead.', data: {} }

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined }
}

const install = (url: string, body: unknown) => post(url, '/api/galley/install', body)
const check = (url: string, token: unknown) => post(url, '/api/galley/install/check', { token })

describe.each(DB_KINDS)('first-run installer ($kind)', ({ kind, skip }) => {
  let store: TestStore
  let g: RunningGalley

  beforeAll(async () => {
    if (skip) return
    store = await createStore(kind)
    g = await startGalley(store, { superuser: false })
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  const secret = () => {
    const c = g.galley.collections.get('_superusers')
    if (!isAuthCollection(c)) throw new Error('no _superusers')
    return { secret: c.authToken.secret, id: c.id }
  }

  it.skipIf(skip)('refuses forged, expired, wrong-type and oversized tokens with 400', async () => {
    const { secret: s, id } = secret()
    const forged = [
      await signToken({ id: '', collectionId: id, type: 'install' }, 'install:not-the-secret', 600),
      // the raw secret (an auth-token key shape) is not the installer's key
      await signToken({ id: '', collectionId: id, type: 'install' }, s, 600),
      await signToken({ id: '', collectionId: id, type: 'auth' }, `install:${s}`, 600),
      await signToken({ id: '', collectionId: 'other', type: 'install' }, `install:${s}`, 600),
      await g.galley.installer.token(-5), // expired
      new UnsecuredJWT({ id: '', collectionId: id, type: 'install' }).setExpirationTime('10m').encode(),
      await new SignJWT({ id: '', collectionId: id, type: 'install' }) // no exp
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(`install:${s}`)),
      'not-a-jwt',
      '',
      'x'.repeat(MAX_INSTALL_TOKEN_LENGTH + 1),
    ]
    for (const token of forged) {
      expect(await check(g.url, token), token.slice(0, 40)).toEqual({ status: 400, body: INVALID_TOKEN })
      const r = await install(g.url, { token, email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD })
      expect(r).toEqual({ status: 400, body: INVALID_TOKEN })
    }
    for (const token of [undefined, null, 42, ['a'], { a: 1 }])
      expect((await check(g.url, token)).status).toBe(400)
    expect((await install(g.url, ['x'])).status).toBe(400)
    expect((await install(g.url, null)).status).toBe(400)
    expect(await g.galley.superusers.count()).toBe(0)
  })

  it.skipIf(skip)('validates the form next to each field', async () => {
    const token = await g.galley.installer.token()
    expect(await check(g.url, token)).toEqual({ status: 204, body: undefined })
    const r = await install(g.url, { token, email: 'nope', password: 'short', passwordConfirm: 'other' })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ data: { passwordConfirm: { code: 'validation_values_mismatch' } } })
    const r2 = await install(g.url, { token, email: 'nope', password: 'short', passwordConfirm: 'short' })
    expect(r2.body).toMatchObject({
      status: 400,
      data: {
        email: { code: 'validation_is_email' },
        password: { code: 'validation_length_out_of_range' },
      },
    })
    const r3 = await install(g.url, { token })
    expect(Object.keys((r3.body as { data: object }).data).sort()).toEqual([
      'email',
      'password',
      'passwordConfirm',
    ])
    const r4 = await install(g.url, { token, email: 7, password: PASSWORD, passwordConfirm: PASSWORD })
    expect(r4.body).toMatchObject({ data: { email: { code: 'validation_invalid_value' } } })
    // each text is read up to MAX_INSTALL_FIELD_LENGTH characters; one more is refused unread
    const long = 'p'.repeat(MAX_INSTALL_FIELD_LENGTH + 1)
    const r5 = await install(g.url, { token, email: EMAIL, password: long, passwordConfirm: long })
    expect(r5.body).toMatchObject({
      data: {
        password: { code: 'validation_invalid_value' },
        passwordConfirm: { code: 'validation_invalid_value' },
      },
    })
    const atLimit = 'p'.repeat(MAX_INSTALL_FIELD_LENGTH)
    const r6 = await install(g.url, { token, email: EMAIL, password: atLimit, passwordConfirm: atLimit })
    expect(r6.body).toMatchObject({ data: { password: { code: 'validation_length_out_of_range' } } })
    expect(await g.galley.superusers.count()).toBe(0)
  })

  it.skipIf(skip)('creates one superuser from racing installs, then every link is useless', async () => {
    const token = await g.galley.installer.token()
    const second = await g.galley.installer.token()
    const bodies = ['a', 'b', 'c'].map((n) => ({
      token,
      email: `${n}-${EMAIL}`,
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    }))
    const results = await Promise.all(bodies.map((b) => install(g.url, b)))
    expect(results.filter((r) => r.status === 204)).toHaveLength(1)
    for (const r of results.filter((r) => r.status !== 204)) expect(r).toEqual({ status: 403, body: EXISTS })
    expect(await g.galley.superusers.count()).toBe(1)
    const winner = bodies[results.findIndex((r) => r.status === 204)]!
    const pb = g.sdk()
    await pb.collection('_superusers').authWithPassword(winner.email, PASSWORD)
    expect(pb.authStore.isSuperuser).toBe(true)

    // the same and another unused link, now that a superuser exists
    for (const t of [token, second]) {
      expect(await check(g.url, t)).toEqual({ status: 403, body: EXISTS })
      expect(
        await install(g.url, { token: t, email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }),
      ).toEqual({ status: 403, body: EXISTS })
    }
    await expect(g.galley.installer.token()).rejects.toMatchObject({ status: 403 })
    // an install token is not an auth token
    const res = await fetch(`${g.url}/api/collections`, { headers: { authorization: token } })
    expect(res.status).toBe(401)
  })

  it.skipIf(skip)('galley superuser install-link prints a working link, then refuses', async () => {
    const s2 = await createStore(kind)
    try {
      const args = ['superuser', 'install-link', '--dir', s2.dir, ...(s2.dbUrl ? ['--db', s2.dbUrl] : [])]
      const first = await runCli([...args, '--http', '127.0.0.1:9876'])
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      const m = /^http:\/\/127\.0\.0\.1:9876\/_\/#\/install\/([\w-]+\.[\w-]+\.[\w-]+)\n$/.exec(first.stdout)
      expect(m, first.stdout).not.toBeNull()
      // signed by one process, accepted by a server started later on the same data
      const server = await startGalley(s2, { superuser: false })
      try {
        expect(await check(server.url, m![1])).toEqual({ status: 204, body: undefined })
      } finally {
        await server.close()
      }
      const up = await runCli(['superuser', 'upsert', EMAIL, PASSWORD, ...args.slice(2)])
      expect(up.code).toBe(0)
      const again = await runCli(args)
      expect(again.code).toBe(1)
      expect(again.stdout).toBe('')
      expect(again.stderr).toContain('A superuser already exists')
    } finally {
      await s2.cleanup()
    }
  })

  it.skipIf(skip)('galley serve prints a working link only while no superuser exists', async () => {
    const s3 = await createStore(kind)
    try {
      const args = ['--dir', s3.dir, ...(s3.dbUrl ? ['--db', s3.dbUrl] : [])]
      const first = await startServe(args)
      try {
        // printed just after the address line
        await expect.poll(() => first.output()).toMatch(/\/install\/\S+\n/)
        const m = /No superuser yet.*\n {2}(http:\/\/127\.0\.0\.1:\d+\/_\/#\/install\/(\S+))\n/.exec(
          first.output(),
        )
        expect(m, first.output()).not.toBeNull()
        expect(m![1]!.startsWith(`${first.url}/_/`)).toBe(true)
        expect(await check(first.url, m![2])).toEqual({ status: 204, body: undefined })
        const ok = await install(first.url, {
          token: m![2],
          email: EMAIL,
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        expect(ok.status).toBe(204)
      } finally {
        expect(await first.stop()).toBe(0)
      }
      const second = await startServe(args)
      let code: number | null
      try {
        expect((await fetch(`${second.url}/api/health`)).status).toBe(200)
      } finally {
        code = await second.stop()
      }
      // all it printed, once it has exited: no link now that a superuser exists
      expect(code).toBe(0)
      expect(second.output()).toContain(`Dashboard: ${second.url}/_/`)
      expect(second.output()).not.toContain('/install/')
      expect(second.output()).not.toContain('No superuser yet')
    } finally {
      await s3.cleanup()
    }
  })
})
