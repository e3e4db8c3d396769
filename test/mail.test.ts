import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { MAX_PENDING_MAILS, renderTemplate } from '../src/mail/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js'

describe('mail templates', () => {
  const values = {
    appName: 'Acme & Co',
    appURL: 'https://acme.example/',
    token: 'tok.en',
    record: { name: '<a href="https://evil.example">click</a>', age: 3, tags: ['a'] },
  }

  it('fills every placeholder, trims the app URL and escapes values in the HTML body', () => {
    const r = renderTemplate(
      {
        subject: 'Hi {RECORD:name} from {APP_NAME}',
        body: '<p>{APP_NAME} {RECORD:name} {RECORD:age} {RECORD:tags} {RECORD:missing}.</p><a href="{APP_URL}/_/#/x/{TOKEN}">go</a>',
      },
      values,
    )
    expect(r.subject).toBe('Hi <a href="https://evil.example">click</a> from Acme & Co')
    expect(r.html).toBe(
      '<p>Acme &amp; Co &lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt; 3 [&quot;a&quot;] .</p><a href="https://acme.example/_/#/x/tok.en">go</a>',
    )
    expect(r.text).toContain('go (https://acme.example/_/#/x/tok.en)')
    expect(r.text).toContain('<a href="https://evil.example">click</a>')
  })

  it('leaves placeholders without a value as written and never expands a value twice', () => {
    const r = renderTemplate(
      { subject: '{OTP}', body: '{RECORD:name} {OTP_ID}' },
      {
        ...values,
        record: { name: '{APP_NAME}' },
      },
    )
    expect(r.subject).toBe('{OTP}')
    expect(r.html).toBe('{APP_NAME} {OTP_ID}')
  })

  it('keeps the subject on one line (no header injection)', () => {
    const r = renderTemplate(
      { subject: '{RECORD:name}', body: '' },
      {
        ...values,
        record: { name: 'a\r\nBcc: victim@example.com' },
      },
    )
    expect(r.subject).toBe('a Bcc: victim@example.com')
  })
})

describe.each(DB_KINDS)('mail service ($kind)', ({ kind, skip }) => {
  let store: TestStore
  let g: RunningGalley
  let sink: SmtpSink

  beforeAll(async () => {
    if (skip) return
    store = await createStore(kind)
    g = await startGalley(store)
    sink = await startSmtpSink()
  })
  afterAll(async () => {
    await g?.close()
    await sink?.close()
    await store?.cleanup()
  })

  it.skipIf(skip)('without SMTP a background send is logged, never thrown', async () => {
    const m = g.galley.mail.render({ subject: 's', body: 'b' }, 'nobody@example.com', {})
    await expect(g.galley.mail.send(m)).rejects.toThrow('SMTP is not configured')
    g.galley.mail.sendInBackground('test', m)
    await g.galley.mail.idle()
    expect(sink.mails).toHaveLength(0)
  })

  it.skipIf(skip)(
    'sends through the SMTP server configured in settings, from the sender in meta',
    async () => {
      const pb = await g.asSuperuser()
      await pb.settings.update({
        smtp: sink.smtpSettings(),
        meta: { appName: 'Acme', senderName: 'Acme Support', senderAddress: 'support@acme.example' },
      })
      const m = g.galley.mail.render(
        { subject: 'Welcome to {APP_NAME}', body: '<p>Hello {RECORD:name}</p>' },
        'jane@example.com',
        { record: { name: 'Jane' } },
      )
      g.galley.mail.sendInBackground('test', m)
      const got = await sink.waitFor('jane@example.com')
      expect(got.subject).toBe('Welcome to Acme')
      expect(got.html).toBe('<p>Hello Jane</p>')
      expect(got.text).toBe('Hello Jane')
      expect(got.from).toBe('"Acme Support" <support@acme.example>')
    },
  )

  it.skipIf(skip)(
    'a server that never answers holds at most MAX_PENDING_MAILS mails; more are dropped',
    async () => {
      const sockets = new Set<Socket>()
      const blackhole = createServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
      })
      await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
      const pb = await g.asSuperuser()
      await pb.settings.update({
        smtp: { ...sink.smtpSettings(), port: (blackhole.address() as AddressInfo).port },
      })
      const m = g.galley.mail.render({ subject: 's', body: 'b' }, 'x@example.com', {})
      for (let i = 0; i < MAX_PENDING_MAILS; i++) expect(g.galley.mail.sendInBackground('test', m)).toBe(true)
      expect(g.galley.mail.pending).toBe(MAX_PENDING_MAILS)
      expect(g.galley.mail.sendInBackground('test', m)).toBe(false)
      expect(g.galley.mail.pending).toBe(MAX_PENDING_MAILS)
      // the server goes away: shutdown waits a bounded time, then closing the connections fails
      // every mail still queued (each is logged); none hangs
      await new Promise<void>((resolve) => {
        blackhole.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
      const t0 = Date.now()
      await g.galley.mail.idle(200)
      expect(Date.now() - t0).toBeLessThan(2000)
      g.galley.mail.close()
      await g.galley.mail.idle()
      expect(g.galley.mail.pending).toBe(0)
    },
    30_000,
  )

  it.skipIf(skip)('an unreachable SMTP server fails the send, and a background send only logs', async () => {
    const pb = await g.asSuperuser()
    await pb.settings.update({ smtp: { ...sink.smtpSettings(), port: 1 } })
    const m = g.galley.mail.render({ subject: 's', body: 'b' }, 'x@example.com', {})
    await expect(g.galley.mail.send(m)).rejects.toThrow()
    g.galley.mail.sendInBackground('test', m)
    await g.galley.mail.idle()
  })
})
