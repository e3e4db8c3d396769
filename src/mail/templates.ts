/** A mail template as collections store it (§6.2): subject and HTML body with placeholders. */
export interface MailTemplate {
  readonly subject: string
  readonly body: string
}

/** What a template's placeholders stand for (§8.10); the record's fields fill `{RECORD:name}`. */
export interface TemplateValues {
  readonly appName: string
  readonly appURL: string
  readonly token?: string
  readonly otp?: string
  readonly otpId?: string
  readonly alertInfo?: string
  readonly record?: Readonly<Record<string, unknown>>
}

export interface RenderedMail {
  readonly subject: string
  readonly html: string
  readonly text: string
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)

const PLACEHOLDER = /\{(APP_NAME|APP_URL|TOKEN|OTP|OTP_ID|ALERT_INFO|RECORD:(\w+))\}/g

function valueOf(values: TemplateValues, name: string, field: string | undefined): string | undefined {
  if (field !== undefined) {
    const v = values.record?.[field]
    if (v === undefined || v === null) return ''
    return typeof v === 'string' ? v : JSON.stringify(v)
  }
  switch (name) {
    case 'APP_NAME':
      return values.appName
    case 'APP_URL':
      return values.appURL.replace(/\/+$/, '')
    case 'TOKEN':
      return values.token
    case 'OTP':
      return values.otp
    case 'OTP_ID':
      return values.otpId
    case 'ALERT_INFO':
      return values.alertInfo
    default:
      return undefined
  }
}

/**
 * Fills PocketBase's placeholders in one pass (a value that itself looks like a placeholder is not
 * expanded again). In the HTML body every value is escaped: `{RECORD:name}` is user data, and a
 * name such as `<a href=...>` must not become a link in a mail sent from the app. A placeholder
 * with no value (`{OTP}` in a verification mail) is left as written.
 */
export function renderTemplate(template: MailTemplate, values: TemplateValues): RenderedMail {
  const fill = (text: string, escape: boolean) =>
    text.replace(PLACEHOLDER, (whole, name: string, field: string | undefined) => {
      const v = valueOf(values, name, field)
      if (v === undefined) return whole
      return escape ? escapeHtml(v) : v
    })
  const html = fill(template.body, true)
  return { subject: fill(template.subject, false).replace(/[\r\n]+/g, ' '), html, text: htmlToText(html) }
}

/** A plain-text alternative: tags dropped, links kept as their address, entities decoded. */
function htmlToText(html: string): string {
  return html
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, '$2 ($1)')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
