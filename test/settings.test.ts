import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../src/auth/index.js'
import { newRecordId, nowDateTime, randomString } from '../src/lib/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

const SAVE_FAILED = 'An error occurred while saving the new settings.'
const UNAUTHORIZED = {
  status: 401,
  message: 'The request requires valid record authorization token.',
  data: {},
}
const NOT_ALLOWED = {
  status: 403,
  message: 'The authorized record is not allowed to perform this action.',
  data: {},
}

const s3Public = {
  enabled: false,
  bucket: '',
  region: '',
  endpoint: '',
  accessKey: '',
  forcePathStyle: false,
}

/** GET /api/settings of a fresh install: the §13.2 shape with Galley's defaults, secrets omitted. */
const DEFAULTS = {
  meta: {
    appName: 'Galley',
    appURL: 'http://127.0.0.1:8090',
    senderName: 'Support',
    senderAddress: 'support@example.com',
    hideControls: false,
    accentColor: '',
  },
  logs: { maxDays: 5, minLevel: 0, logIP: true, logAuthId: false },
  smtp: {
    enabled: false,
    host: 'smtp.example.com',
    port: 587,
    username: '',
    authMethod: '',
    tls: false,
    localName: '',
  },
  s3: s3Public,
  backups: { cron: '', cronMaxKeep: 3, s3: s3Public },
  batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
  rateLimits: {
    enabled: false,
    excludedIPs: [],
    rules: [
      { label: '*:auth', audience: '', duration: 3, maxRequests: 2 },
      { label: '*:create', audience: '', duration: 5, maxRequests: 20 },
      { label: '/api/batch', audience: '', duration: 1, maxRequests: 3 },
      { label: '/api/', audience: '', duration: 10, maxRequests: 300 },
    ],
  },
  trustedProxy: { headers: [], useLeftmostIP: false },
  superuserIPs: [],
  bruteForce: {
    enabled: true,
    perIP: { maxRequests: 60, duration: 60 },
    perIdentityAndIP: { maxRequests: 10, duration: 60 },
    perIdentity: { maxRequests: 100, duration: 60 },
  },
}

type Json = Record<string, unknown>
const required = { code: 'validation_required', message: 'Cannot be blank.' }
const invalid = { code: 'validation_invalid_value', message: 'Invalid value.' }
const range = (min: number, max: number) => ({
  code: 'validation_out_of_range',
  message: `Must be between ${min} and ${max}.`,
})
const badUrl = { code: 'validation_is_url', message: 'Must be a valid URL.' }
const badIp = { code: 'validation_is_ip', message: 'Must be a valid IP address.' }

/** PATCH bodies that must fail, with the exact per-field data of the 400. */
const INVALID: [string, unknown, Json][] = [
  ['appURL that is not a URL', { meta: { appURL: 'not a url' } }, { meta: { appURL: badUrl } }],
  ['appURL with a non-http scheme', { meta: { appURL: 'ftp://example.com' } }, { meta: { appURL: badUrl } }],
  ['blank appName', { meta: { appName: '   ' } }, { meta: { appName: required } }],
  [
    'bad senderAddress',
    { meta: { senderAddress: 'nobody' } },
    { meta: { senderAddress: { code: 'validation_is_email', message: 'Must be a valid email address.' } } },
  ],
  ['smtp enabled without a host', { smtp: { enabled: true, host: '' } }, { smtp: { host: required } }],
  ['smtp port 0', { smtp: { enabled: true, port: 0 } }, { smtp: { port: range(1, 65_535) } }],
  ['smtp port 65536', { smtp: { enabled: true, port: 65_536 } }, { smtp: { port: range(1, 65_535) } }],
  [
    'smtp authMethod outside PLAIN/LOGIN',
    { smtp: { authMethod: 'CRAM-MD5' } },
    { smtp: { authMethod: { code: 'validation_in_invalid', message: 'Must be PLAIN or LOGIN.' } } },
  ],
  [
    'rate limit rule with a bad audience',
    { rateLimits: { rules: [{ label: '/api/', audience: '@admins', duration: 1, maxRequests: 1 }] } },
    {
      rateLimits: {
        rules: {
          0: { audience: { code: 'validation_in_invalid', message: 'Must be empty, @guest or @auth.' } },
        },
      },
    },
  ],
  [
    'rate limit rule with duration 0',
    { rateLimits: { rules: [{ label: '*:auth', audience: '', duration: 0, maxRequests: 5 }] } },
    { rateLimits: { rules: { 0: { duration: range(1, 86_400) } } } },
  ],
  [
    'rate limit rule with a bad label (second rule)',
    {
      rateLimits: {
        rules: [
          { label: '/api/', audience: '', duration: 1, maxRequests: 1 },
          { label: 'no spaces allowed', audience: '@guest', duration: 1, maxRequests: 1 },
        ],
      },
    },
    {
      rateLimits: {
        rules: { 1: { label: { code: 'validation_invalid_value', message: 'Invalid rate limit label.' } } },
      },
    },
  ],
  [
    'rate limit rules that are not objects',
    { rateLimits: { rules: ['x'] } },
    { rateLimits: { rules: invalid } },
  ],
  [
    's3 enabled without bucket',
    {
      s3: { enabled: true, region: 'eu', endpoint: 'https://s3.example.com', accessKey: 'ak', secret: 'sk' },
    },
    { s3: { bucket: required } },
  ],
  [
    's3 enabled with nothing set',
    { s3: { enabled: true } },
    { s3: { bucket: required, region: required, endpoint: required, accessKey: required, secret: required } },
  ],
  [
    'backups.s3 enabled with a bad endpoint',
    {
      backups: {
        s3: { enabled: true, bucket: 'b', region: 'eu', endpoint: 'nope', accessKey: 'ak', secret: 'sk' },
      },
    },
    { backups: { s3: { endpoint: badUrl } } },
  ],
  [
    'backups cron that is not 5 fields',
    { backups: { cron: '* * *' } },
    {
      backups: {
        cron: { code: 'validation_invalid_cron', message: 'Must be a cron expression of 5 fields.' },
      },
    },
  ],
  ['superuserIPs with a bad IP', { superuserIPs: ['10.0.0.1', '1.2.3.999'] }, { superuserIPs: { 1: badIp } }],
  [
    'excludedIPs with a hostname',
    { rateLimits: { excludedIPs: ['localhost'] } },
    { rateLimits: { excludedIPs: { 0: badIp } } },
  ],
  [
    'trusted proxy header with a space',
    { trustedProxy: { headers: ['X Forwarded For'] } },
    {
      trustedProxy: { headers: { 0: { code: 'validation_invalid_value', message: 'Invalid header name.' } } },
    },
  ],
  ['batch.maxRequests 0', { batch: { maxRequests: 0 } }, { batch: { maxRequests: range(1, 10_000) } }],
  [
    'bruteForce.perIP.maxRequests 0 and duration 86401',
    { bruteForce: { perIP: { maxRequests: 0, duration: 86_401 } } },
    { bruteForce: { perIP: { maxRequests: range(1, 1_000_000), duration: range(1, 86_400) } } },
  ],
  [
    'bruteForce.perIdentityAndIP.maxRequests 1000001',
    { bruteForce: { perIdentityAndIP: { maxRequests: 1_000_001 } } },
    {
      bruteForce: {
        perIdentityAndIP: { maxRequests: range(1, 1_000_000) },
        perIdentity: {
          maxRequests: {
            code: 'validation_invalid_value',
            message: 'Must be greater than perIdentityAndIP.maxRequests.',
          },
        },
      },
    },
  ],
  [
    'a per-identity ceiling one client can reach alone (malicious lockout)',
    { bruteForce: { perIdentity: { maxRequests: 10 } } },
    {
      bruteForce: {
        perIdentity: {
          maxRequests: {
            code: 'validation_invalid_value',
            message: 'Must be greater than perIdentityAndIP.maxRequests.',
          },
        },
      },
    },
  ],
  ['bruteForce.enabled as a string', { bruteForce: { enabled: 'no' } }, { bruteForce: { enabled: invalid } }],
  ['logs.maxDays not an integer', { logs: { maxDays: 1.5 } }, { logs: { maxDays: range(0, 100_000) } }],
  ['appName as a number', { meta: { appName: 5 } }, { meta: { appName: invalid } }],
  ['meta as a string', { meta: 'Acme' }, { meta: invalid }],
  ['smtp.port as a string', { smtp: { port: '25' } }, { smtp: { port: invalid } }],
  ['batch.enabled as a string', { batch: { enabled: 'yes' } }, { batch: { enabled: invalid } }],
  ['superuserIPs as a string', { superuserIPs: '10.0.0.1' }, { superuserIPs: invalid }],
  [
    'excludedIPs holding a number',
    { rateLimits: { excludedIPs: [1] } },
    { rateLimits: { excludedIPs: invalid } },
  ],
  [
    'several errors at once',
    {
      meta: { appURL: 'x', appName: '' },
      smtp: { enabled: true, host: '', port: 0 },
      superuserIPs: ['nope'],
    },
    {
      meta: { appURL: badUrl, appName: required },
      smtp: { host: required, port: range(1, 65_535) },
      superuserIPs: { 0: badIp },
    },
  ],
  [
    'a valid change next to an invalid one (nothing is applied)',
    { meta: { appName: 'Should not stick' }, smtp: { port: 'x' } },
    { smtp: { port: invalid } },
  ],
]

async function api(
  url: string,
  method: string,
  opts: { token?: string; body?: unknown; raw?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {}
  if (opts.token) headers.authorization = opts.token
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
  if (payload !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${url}/api/settings`, { method, headers, body: payload })
  return { status: res.status, body: (await res.json()) as unknown }
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`settings on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let token: string
    let userToken: string
    const g = () => running.galley
    const getSettings = async () => {
      const r = await api(running.url, 'GET', { token })
      expect(r.status).toBe(200)
      return r.body as Json
    }
    const patch = (body: unknown) => api(running.url, 'PATCH', { token, body })

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      token = (await running.asSuperuser()).authStore.token

      const d = g().database.dialect
      const now = nowDateTime()
      await g()
        .database.db.insertInto('users')
        .values({
          id: newRecordId(),
          email: 'user@example.com',
          password: await hashPassword('user password 1'),
          tokenKey: randomString(50),
          emailVisibility: d.encode('bool', false),
          verified: d.encode('bool', true),
          created: now,
          updated: now,
        })
        .execute()
      userToken = (
        await running.sdk().collection('users').authWithPassword('user@example.com', 'user password 1')
      ).token
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    it('GET returns the §13.2 shape with the defaults and no secrets', async () => {
      expect(await getSettings()).toEqual(DEFAULTS)
      // The SDK reads the same.
      const pb = await running.asSuperuser()
      expect(await pb.settings.getAll()).toEqual(DEFAULTS)
    })

    it('guests get 401 and other auth records 403, for GET and PATCH, and nothing changes', async () => {
      const body = { meta: { appName: 'Hijacked' } }
      expect(await api(running.url, 'GET')).toEqual({ status: 401, body: UNAUTHORIZED })
      expect(await api(running.url, 'PATCH', { body })).toEqual({ status: 401, body: UNAUTHORIZED })
      expect(await api(running.url, 'GET', { token: userToken })).toEqual({ status: 403, body: NOT_ALLOWED })
      expect(await api(running.url, 'PATCH', { token: userToken, body })).toEqual({
        status: 403,
        body: NOT_ALLOWED,
      })
      expect(await getSettings()).toEqual(DEFAULTS)
    })

    it('PATCH merges partially: {meta:{appName}} keeps everything else', async () => {
      const expected = { ...DEFAULTS, meta: { ...DEFAULTS.meta, appName: 'Acme' } }
      expect(await patch({ meta: { appName: 'Acme' } })).toEqual({ status: 200, body: expected })
      expect(await getSettings()).toEqual(expected)
      // A nested partial keeps the sibling keys of the same object, and an empty body is a no-op.
      const more = {
        ...expected,
        smtp: { ...DEFAULTS.smtp, enabled: true, host: 'mail.example.com' },
        rateLimits: { ...DEFAULTS.rateLimits, enabled: true },
      }
      expect(
        await patch({ smtp: { enabled: true, host: 'mail.example.com' }, rateLimits: { enabled: true } }),
      ).toEqual({ status: 200, body: more })
      expect(await patch({})).toEqual({ status: 200, body: more })
      // Unknown keys are ignored, never stored or echoed.
      expect(await patch({ nope: 1, meta: { nope: 2 } })).toEqual({ status: 200, body: more })
      // Arrays replace.
      const rules = [{ label: 'GET /api/health', audience: '@guest', duration: 60, maxRequests: 100 }]
      const r = await patch({ rateLimits: { rules }, superuserIPs: ['127.0.0.1', '::1'] })
      expect(r.status).toBe(200)
      expect((r.body as typeof DEFAULTS).rateLimits.rules).toEqual(rules)
      expect((r.body as typeof DEFAULTS).superuserIPs).toEqual(['127.0.0.1', '::1'])
      // Put the defaults of those back for the rest of the suite.
      expect(
        (
          await patch({
            smtp: DEFAULTS.smtp,
            rateLimits: DEFAULTS.rateLimits,
            superuserIPs: [],
          })
        ).body,
      ).toEqual(expected)
    })

    it('invalid values: 400 with per-field data, and nothing changes', async () => {
      const before = await getSettings()
      const stored = structuredClone(g().settings.get())
      for (const [name, body, data] of INVALID) {
        expect(await patch(body), name).toEqual({
          status: 400,
          body: { status: 400, message: SAVE_FAILED, data },
        })
      }
      expect(await getSettings()).toEqual(before)
      expect(g().settings.get()).toEqual(stored)
    })

    it('a body that is not a JSON object: 400 without field data', async () => {
      const before = await getSettings()
      for (const raw of ['[]', '"Acme"', '42', 'null', 'true', '[{"meta":{"appName":"x"}}]']) {
        expect(await api(running.url, 'PATCH', { token, raw }), raw).toEqual({
          status: 400,
          body: { status: 400, message: SAVE_FAILED, data: {} },
        })
      }
      expect(await api(running.url, 'PATCH', { token, raw: '{"meta":' })).toEqual({
        status: 400,
        body: { status: 400, message: 'Failed to read the submitted data.', data: {} },
      })
      expect(await getSettings()).toEqual(before)
    })

    it('secrets are accepted, never returned, and kept when omitted or sent empty', async () => {
      const secrets = { smtp: 'smtp-canary-1', s3: 's3-canary-1', backups: 'backups-canary-1' }
      const r = await patch({
        smtp: { password: secrets.smtp },
        s3: { secret: secrets.s3 },
        backups: { s3: { secret: secrets.backups } },
      })
      expect(r.status).toBe(200)
      const text = JSON.stringify(r.body)
      for (const v of Object.values(secrets)) expect(text).not.toContain(v)
      const body = r.body as typeof DEFAULTS
      expect(Object.keys(body.smtp)).not.toContain('password')
      expect(Object.keys(body.s3)).not.toContain('secret')
      expect(Object.keys(body.backups.s3)).not.toContain('secret')
      expect(JSON.stringify(await getSettings())).not.toMatch(/canary/)
      const stored = () => {
        const s = g().settings.get()
        return [s.smtp.password, s.s3.secret, s.backups.s3.secret]
      }
      expect(stored()).toEqual([secrets.smtp, secrets.s3, secrets.backups])

      // Omitted: kept.
      expect((await patch({ smtp: { username: 'mailer' }, s3: { region: 'eu-1' } })).status).toBe(200)
      expect(stored()).toEqual([secrets.smtp, secrets.s3, secrets.backups])
      // Sent empty (what a client that read the settings sends back): kept.
      expect(
        (await patch({ smtp: { password: '' }, s3: { secret: '' }, backups: { s3: { secret: '' } } })).status,
      ).toBe(200)
      expect(stored()).toEqual([secrets.smtp, secrets.s3, secrets.backups])
      // A new value replaces only its own secret.
      expect((await patch({ s3: { secret: 's3-canary-2' } })).status).toBe(200)
      expect(stored()).toEqual([secrets.smtp, 's3-canary-2', secrets.backups])
      // An s3 config that relies on the stored secret validates.
      const s3 = {
        enabled: true,
        bucket: 'b',
        region: 'eu-1',
        endpoint: 'https://s3.example.com',
        accessKey: 'ak',
      }
      const ok = await patch({ s3 })
      expect(ok.status).toBe(200)
      expect((ok.body as typeof DEFAULTS).s3).toEqual({ ...s3, forcePathStyle: false })
      expect(JSON.stringify(ok.body)).not.toMatch(/canary/)
      expect((await patch({ s3: { enabled: false } })).status).toBe(200)
    })

    it('concurrent PATCHes of different keys all land (read-merge-write under a lock)', async () => {
      const before = await getSettings()
      const names = Array.from({ length: 8 }, (_, i) => `concurrent-${i}`)
      const results = await Promise.all([
        ...names.slice(0, 4).map((senderName) => patch({ meta: { senderName } })),
        patch({ logs: { maxDays: 42 } }),
        patch({ batch: { maxRequests: 77 } }),
        patch({ backups: { cronMaxKeep: 9 } }),
      ])
      for (const r of results) expect(r.status).toBe(200)
      const after = await getSettings()
      expect((after.logs as Json).maxDays).toBe(42)
      expect((after.batch as Json).maxRequests).toBe(77)
      expect((after.backups as Json).cronMaxKeep).toBe(9)
      expect(names.slice(0, 4)).toContain((after.meta as Json).senderName)
      await patch({
        meta: { senderName: (before.meta as Json).senderName },
        logs: before.logs,
        batch: before.batch,
        backups: { cronMaxKeep: (before.backups as Json).cronMaxKeep },
      })
    })

    it('settings (secrets included) survive a restart', async () => {
      const before = await getSettings()
      expect((before.meta as Json).appName).toBe('Acme')
      const secrets = structuredClone(g().settings.get())
      await running.close()
      running = await startGalley(store)
      token = (await running.asSuperuser()).authStore.token
      expect(await getSettings()).toEqual(before)
      expect(g().settings.get()).toEqual(secrets)
      expect(g().settings.get().smtp.password).toBe('smtp-canary-1')
    })
  })
}
