import nodemailer, { type Transporter } from 'nodemailer'
import type { Logger } from 'pino'
import type { Settings, SettingsService } from '../settings/index.js'
import { renderTemplate, type MailTemplate, type TemplateValues } from './templates.js'

/** One outgoing mail, already rendered. */
export interface MailMessage {
  readonly to: string
  readonly subject: string
  readonly html: string
  readonly text: string
}

/** Why a mail is sent; logged instead of the recipient's address. */
export type MailKind = 'verification' | 'password-reset' | 'email-change' | 'otp' | 'login-alert' | 'test'

/** Network bounds on one SMTP exchange: a dead server cannot hold a mail (or a test request) forever. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }

/** SMTP connections kept open and reused (nodemailer's pool); further mails wait for one. */
const SMTP_MAX_CONNECTIONS = 3

/**
 * Background mails in flight at once. With a slow or dead SMTP server, sends wait up to the
 * timeouts above; past this many, new background mails are dropped (and logged) instead of piling
 * up in memory.
 */
export const MAX_PENDING_MAILS = 1000

/** SMTP is not enabled in settings, so nothing could be sent. */
export class MailNotConfiguredError extends Error {
  constructor() {
    super('SMTP is not configured')
  }
}

/**
 * Sends mail through the SMTP server in `settings.smtp` with nodemailer. The transport is rebuilt
 * when those settings change. Auth flows send in the background (`sendInBackground`): the request's
 * answer never depends on the mail (no enumeration signal, no hang on a slow server), and a failure
 * is logged, never thrown.
 */
export class MailService {
  readonly #settings: SettingsService
  readonly #logger: Logger
  #transport: { key: string; transporter: Transporter } | undefined
  readonly #pending = new Set<Promise<void>>()

  constructor(settings: SettingsService, logger: Logger) {
    this.#settings = settings
    this.#logger = logger
  }

  /** Renders `template` with the app's name and URL from settings plus `values`. */
  render(
    template: MailTemplate,
    to: string,
    values: Omit<TemplateValues, 'appName' | 'appURL'>,
  ): MailMessage {
    const { meta } = this.#settings.get()
    return { to, ...renderTemplate(template, { ...values, appName: meta.appName, appURL: meta.appURL }) }
  }

  /** Sends now; throws `MailNotConfiguredError` without SMTP, or the transport's error. */
  async send(message: MailMessage): Promise<void> {
    const settings = this.#settings.get()
    if (!settings.smtp.enabled) throw new MailNotConfiguredError()
    const { meta } = settings
    await this.#transporter(settings).sendMail({
      from: { name: meta.senderName, address: meta.senderAddress },
      to: message.to,
      subject: message.subject,
      html: message.html,
      text: message.text,
    })
  }

  /**
   * Sends without making the caller wait; failures (SMTP off included) are logged with `kind`.
   * False when `MAX_PENDING_MAILS` are already in flight: the mail is dropped and logged.
   */
  sendInBackground(kind: MailKind, message: MailMessage): boolean {
    if (this.#pending.size >= MAX_PENDING_MAILS) {
      this.#logger.error(
        { mail: kind, pending: this.#pending.size },
        'mail dropped: too many mails in flight',
      )
      return false
    }
    const p = this.send(message)
      .catch((err: unknown) => {
        if (err instanceof MailNotConfiguredError)
          this.#logger.warn({ mail: kind }, 'mail not sent: SMTP is not configured in settings')
        else this.#logger.error({ mail: kind, err: errorText(err) }, 'mail not sent')
      })
      .finally(() => this.#pending.delete(p))
    this.#pending.add(p)
    return true
  }

  /** Background mails in flight now. */
  get pending(): number {
    return this.#pending.size
  }

  /**
   * Resolves once every background send started so far has finished, or after `timeoutMs`
   * (shutdown must not wait minutes for a dead SMTP server).
   */
  async idle(timeoutMs = Infinity): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.#pending.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined
      const left = deadline - Date.now()
      await Promise.race([
        Promise.all([...this.#pending]),
        ...(Number.isFinite(left) ? [new Promise((r) => (timer = setTimeout(r, left)))] : []),
      ])
      clearTimeout(timer)
    }
  }

  /** Closes the SMTP connections; mails still queued on them fail (and are logged). */
  close(): void {
    this.#transport?.transporter.close()
    this.#transport = undefined
  }

  #transporter(settings: Readonly<Settings>): Transporter {
    const s = settings.smtp
    const key = JSON.stringify(s)
    if (this.#transport?.key === key) return this.#transport.transporter
    this.#transport?.transporter.close()
    const transporter = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      // PocketBase's `tls` is implicit TLS (usually port 465); otherwise STARTTLS when offered.
      secure: s.tls,
      pool: true,
      maxConnections: SMTP_MAX_CONNECTIONS,
      ...(s.username ? { auth: { user: s.username, pass: s.password } } : {}),
      ...(s.authMethod ? { authMethod: s.authMethod } : {}),
      ...(s.localName ? { name: s.localName } : {}),
      ...SMTP_TIMEOUTS,
    })
    this.#transport = { key, transporter }
    return transporter
  }
}

/** The error's message only: transport errors can carry the whole SMTP conversation. */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
