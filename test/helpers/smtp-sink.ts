import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** One mail the sink received, parsed. */
export interface SunkMail {
  readonly from: string
  readonly to: string[]
  readonly subject: string
  readonly html: string
  readonly text: string
}

/**
 * A real SMTP server on loopback (smtp-server) that keeps every mail it receives, for tests of the
 * mail flows. `smtpSettings()` is the `smtp` block of a settings PATCH that points Galley at it.
 */
export interface SmtpSink {
  readonly port: number
  readonly mails: SunkMail[]
  smtpSettings(): Record<string, unknown>
  /** The first mail to `to` (after `after` mails to that address) matching `match`, waiting up to `timeoutMs`. */
  waitFor(
    to: string,
    opts?: { match?: (m: SunkMail) => boolean; after?: number; timeoutMs?: number },
  ): Promise<SunkMail>
  /** Mails to `to` so far. */
  to(to: string): SunkMail[]
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: SunkMail[] = []
  const waiters = new Set<() => void>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) =>
            a.value.map((v) => (v.address ?? '').toLowerCase()),
          )
          mails.push({
            from: parsed.from?.text ?? '',
            to,
            subject: parsed.subject ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            text: parsed.text ?? '',
          })
          for (const w of waiters) w()
          callback()
        })
        .catch((err: Error) => callback(err))
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  const toAddr = (to: string) => mails.filter((m) => m.to.includes(to.toLowerCase()))
  return {
    port,
    mails,
    smtpSettings: () => ({ enabled: true, host: '127.0.0.1', port, tls: false, username: '', password: '' }),
    to: toAddr,
    waitFor(to, opts = {}) {
      const { match = () => true, after = 0, timeoutMs = 5000 } = opts
      const find = () => toAddr(to).slice(after).find(match)
      return new Promise<SunkMail>((resolve, reject) => {
        const found = find()
        if (found) return resolve(found)
        const check = () => {
          const m = find()
          if (!m) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(m)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms (${mails.length} mails in the sink)`))
        }, timeoutMs)
        waiters.add(check)
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
