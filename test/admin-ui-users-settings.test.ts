import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { axeViolations, launchBrowser, type TestBrowser } from './helpers/browser.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js'

const EMAIL = 'owner@example.com'
const PASSWORD = 'dashboard pass 123'
const OLD_PASSWORD = 'member old pass 1'
const NEW_PASSWORD = 'member new pass 2'

/**
 * The dashboard's account actions on auth records and its settings screen, in Debian's Chromium
 * against a real `galley serve` (SQLite) with a real SMTP sink. Each step is checked on screen and
 * through the API. One browser and one page for the whole file, as test/admin-ui.test.ts.
 */
describe('users and settings in the dashboard', { timeout: 60_000 }, () => {
  let dir: string
  let server: GalleyProcess
  let sink: SmtpSink
  let b: TestBrowser
  let page: Page
  let api: PocketBase
  let launchError: unknown
  let memberId = ''

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-ui-us-'))
    const created = await runCli(['superuser', 'upsert', EMAIL, PASSWORD, '--dir', dir])
    expect(created.code, created.stderr).toBe(0)
    server = await startServe(['--dir', dir])
    sink = await startSmtpSink()
    try {
      b = await launchBrowser()
      page = b.page
    } catch (err) {
      launchError = err // every test then fails with it (a missing browser never skips)
    }
    api = new PocketBase(server.url)
    api.autoCancellation(false)
    await api.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
  }, 60_000)
  beforeEach(() => {
    if (launchError) throw launchError
  })
  afterAll(async () => {
    await b?.close()
    await server?.stop()
    await sink?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function accessible(what: string) {
    expect(await axeViolations(page), `axe on ${what}`).toEqual([])
  }
  const status = (where: ReturnType<Page['locator']>, text: string | RegExp) =>
    expect.poll(() => where.getByRole('status').filter({ hasText: text }).count()).toBe(1)

  it('signs in and opens a user of an auth collection', async () => {
    // a user may read only their own record: what an impersonation token can open tells whose it is
    await api.collections.create({
      name: 'members',
      type: 'auth',
      viewRule: 'id = @request.auth.id',
      fields: [{ name: 'nickname', type: 'text' }],
    })
    const member = await api.collection('members').create({
      email: 'member@example.com',
      password: OLD_PASSWORD,
      passwordConfirm: OLD_PASSWORD,
      nickname: 'Mem',
    })
    memberId = member.id
    expect(member.verified).toBe(false)
    await api
      .collection('members')
      .create({ email: 'taken@example.com', password: OLD_PASSWORD, passwordConfirm: OLD_PASSWORD })

    await page.goto(`${server.url}/_/#/login`)
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/#\/collections$/)
    await page.getByRole('link', { name: 'members' }).click()
    await page.getByRole('button', { name: `Edit record ${memberId}` }).click()
    const panel = page.getByRole('dialog')
    await expect.poll(() => panel.getByRole('heading', { name: 'Account' }).count()).toBe(1)
    expect(await panel.textContent()).toContain('not verified')
    // email, verified and password are in one place, the Account section: the form has the rest
    for (const id of ['input-email', 'input-verified', 'input-password', 'input-passwordConfirm'])
      expect(await panel.locator(`#${id}`).count(), id).toBe(0)
    expect(await panel.getByLabel('emailVisibility', { exact: true }).count()).toBe(1)
    expect(await panel.getByLabel(/^nickname/).inputValue()).toBe('Mem')
    await accessible('the record panel of a user')
  })

  it('marks the user verified and unverified', async () => {
    const panel = page.getByRole('dialog')
    await panel.getByRole('button', { name: 'Mark as verified' }).click()
    await status(panel, 'Marked as verified.')
    expect((await api.collection('members').getOne(memberId)).verified).toBe(true)
    // the panel's own form has no verified input, so its Save does not undo the change
    expect(await panel.getByLabel('verified', { exact: true }).count()).toBe(0)
    await panel.getByRole('button', { name: 'Save changes' }).click()
    await expect.poll(() => panel.count()).toBe(0)
    expect((await api.collection('members').getOne(memberId)).verified).toBe(true)
    await page.getByRole('button', { name: `Edit record ${memberId}` }).click()
    await expect.poll(() => panel.getByRole('heading', { name: 'Account' }).count()).toBe(1)
    expect(await panel.textContent()).toContain('Email verified')
    await panel.getByRole('button', { name: 'Mark as unverified' }).click()
    await status(panel, 'Marked as unverified.')
    expect((await api.collection('members').getOne(memberId)).verified).toBe(false)
    await panel.getByRole('button', { name: 'Mark as verified' }).click()
    await status(panel, 'Marked as verified.')
    expect((await api.collection('members').getOne(memberId)).verified).toBe(true)
  })

  it('changes the email, showing a taken address’s error by the input first', async () => {
    const panel = page.getByRole('dialog')
    const input = panel.getByLabel(/^Change email/)
    await input.fill('taken@example.com')
    await panel.getByRole('button', { name: 'Change email' }).click()
    await expect.poll(() => panel.locator('#user-new-email-error').textContent()).toMatch(/\w/)
    const shown = (await panel.locator('#user-new-email-error').textContent())!.trim()
    // the words are the server's own, for the email field
    const answer = await api
      .collection('members')
      .update(memberId, { email: 'taken@example.com' })
      .catch(
        (err: { response: { data: { email?: { message: string } } } }) => err.response.data.email?.message,
      )
    expect(shown).toBe(answer)
    expect(await input.getAttribute('aria-invalid')).toBe('true')
    expect((await api.collection('members').getOne(memberId)).email).toBe('member@example.com')
    await accessible('the user actions with an error')

    await input.fill('renamed@example.com')
    await panel.getByRole('button', { name: 'Change email' }).click()
    await status(panel, 'Email changed to renamed@example.com.')
    expect(await panel.locator('#user-new-email-error').isHidden()).toBe(true)
    expect((await api.collection('members').getOne(memberId)).email).toBe('renamed@example.com')
  })

  it('sets a new password: the new one signs in, the old one no longer does', async () => {
    const panel = page.getByRole('dialog')
    await panel.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await panel.getByLabel('New password again').fill('not the same')
    await panel.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(() => panel.locator('#user-set-password-confirm-error').textContent()).toMatch(/match/i)
    await panel.getByLabel('New password again').fill(NEW_PASSWORD)
    await panel.getByRole('button', { name: 'Set password' }).click()
    await status(panel, /^Password set/)
    const user = new PocketBase(server.url)
    const auth = await user.collection('members').authWithPassword('renamed@example.com', NEW_PASSWORD)
    expect(auth.record.id).toBe(memberId)
    await expect(
      new PocketBase(server.url).collection('members').authWithPassword('renamed@example.com', OLD_PASSWORD),
    ).rejects.toMatchObject({ status: 400 })
  })

  it('impersonates the user: the token shown authenticates as them; the dashboard stays signed in', async () => {
    const panel = page.getByRole('dialog')
    await panel.getByLabel(/^Impersonate/).fill('-5')
    await panel.getByRole('button', { name: 'Get a token' }).click()
    await expect.poll(() => panel.locator('#user-impersonate-error').textContent()).toMatch(/\w/)
    const refused = await api
      .collection('members')
      .impersonate(memberId, -5)
      .then(
        () => 'accepted',
        (err: { response: { message: string; data: { duration?: { message: string } } } }) =>
          err.response.data.duration?.message ?? err.response.message,
      )
    expect((await panel.locator('#user-impersonate-error').textContent())!.trim()).toBe(refused)
    expect(await panel.getByLabel(/^Token for/).count()).toBe(0)

    await panel.getByLabel(/^Impersonate/).fill('600')
    await panel.getByRole('button', { name: 'Get a token' }).click()
    const tokenField = panel.getByLabel(/^Token for renamed@example.com/)
    await expect.poll(() => tokenField.count()).toBe(1)
    const token = await tokenField.inputValue()
    expect(token.split('.')).toHaveLength(3)
    const url = `${server.url}/api/collections/members/records/${memberId}`
    expect((await fetch(url)).status).toBe(404)
    const res = await fetch(url, { headers: { Authorization: token } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { email: string }).email).toBe('renamed@example.com')
    // the token is the user's: the superusers' list refuses it
    const asUser = await fetch(`${server.url}/api/collections/_superusers/records`, {
      headers: { Authorization: token },
    })
    expect(asUser.status).toBe(403)
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      id: string
      exp: number
      refreshable: boolean
    }
    expect(payload.id).toBe(memberId)
    expect(payload.refreshable).toBe(false)
    expect(payload.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(500)
    expect(payload.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600)

    await b.context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await panel.getByRole('button', { name: 'Copy token' }).click()
    await status(panel, 'Copied.')
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token)
    await accessible('the user actions with a token')

    // the dashboard's own session is still the superuser's
    const stored = (await page.evaluate('localStorage.getItem("galley_dashboard_auth")')) as string
    expect(stored).not.toContain(token)
    await page.keyboard.press('Escape')
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0)
    await page.reload()
    await expect.poll(() => page.locator('.topbar').textContent()).toContain(EMAIL)
    expect(b.consoleErrors).toEqual([])
  })

  /** The JSON body of the next `PATCH /api/settings` the page sends while `act` runs. */
  async function patchSent(act: () => Promise<void>): Promise<unknown> {
    const request = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith('/api/settings'))
    await act()
    return (await request).postDataJSON()
  }
  const save = () => page.getByRole('button', { name: 'Save settings' }).click()
  const settingsForm = () => page.locator('main form').first()
  const byId = (id: string) => page.locator(`#${id}`)

  it('opens the settings from the top bar and saves only the changed app name', async () => {
    // by keyboard: the top bar's link, then focus is in the content, and Tab reaches the first input
    await page.getByRole('banner').getByRole('link', { name: 'Settings' }).focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/#\/settings$/)
    await expect.poll(() => page.getByLabel('Application name').inputValue()).toBe('Galley')
    await expect.poll(() => page.evaluate('document.activeElement.id')).toBe('main')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement.id')).toBe('settings-meta-appName')
    expect(await page.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe('page')
    await accessible('the settings screen')

    await page.getByLabel('Application name').fill('Acme Galley')
    const body = await patchSent(save)
    expect(body).toEqual({ meta: { appName: 'Acme Galley' } })
    await status(settingsForm(), 'Settings saved.')
    expect((await api.settings.getAll()).meta.appName).toBe('Acme Galley')
    await expect.poll(() => page.locator('.topbar').textContent()).toContain('Acme Galley')
    await page.reload()
    await expect.poll(() => page.getByLabel('Application name').inputValue()).toBe('Acme Galley')
    await expect.poll(() => page.title()).toBe('Acme Galley · Galley dashboard')
  })

  it('shows the server’s errors by their inputs, then saves the fixed values', async () => {
    await page.getByLabel('Application URL').fill('not a url')
    await page.getByLabel('Max requests per batch').fill('-1')
    await save()
    await expect.poll(() => byId('settings-meta-appURL-error').textContent()).toBe('Must be a valid URL.')
    expect(await byId('settings-batch-maxRequests-error').textContent()).toBe('Must be between 1 and 10000.')
    expect(await page.getByLabel('Application URL').getAttribute('aria-invalid')).toBe('true')
    await accessible('the settings screen with errors')
    const before = await api.settings.getAll()
    expect(before.meta.appURL).not.toBe('not a url')
    expect(before.batch.maxRequests).toBe(50)

    await page.getByLabel('Application URL').fill('https://acme.example.com')
    await page.getByLabel('Max requests per batch').fill('25')
    await page.getByLabel('Enable batch requests').check()
    expect(await patchSent(save)).toEqual({
      meta: { appURL: 'https://acme.example.com' },
      batch: { enabled: true, maxRequests: 25 },
    })
    await status(settingsForm(), 'Settings saved.')
    expect(await byId('settings-meta-appURL-error').isHidden()).toBe(true)
    const after = await api.settings.getAll()
    expect(after.meta.appURL).toBe('https://acme.example.com')
    expect(after.batch).toMatchObject({ enabled: true, maxRequests: 25 })
  })

  it('adds, edits and removes rate limit rules', async () => {
    const rules = (await api.settings.getAll()).rateLimits.rules as { label: string }[]
    expect(rules.map((r) => r.label)).toEqual(['*:auth', '*:create', '/api/batch', '/api/'])
    await page.getByRole('button', { name: 'Add rule' }).click()
    const n = rules.length
    // focus moves to the new rule's label
    await expect
      .poll(() => page.evaluate('document.activeElement.id'))
      .toBe(`settings-rateLimits-rules-${n}-label`)
    await page.keyboard.type('bad label!')
    await save()
    await expect
      .poll(() => byId(`settings-rateLimits-rules-${n}-label-error`).textContent())
      .toBe('Invalid rate limit label.')
    await byId(`settings-rateLimits-rules-${n}-label`).fill('members:create')
    await byId(`settings-rateLimits-rules-${n}-maxRequests`).fill('5')
    await byId(`settings-rateLimits-rules-${n}-duration`).fill('60')
    await byId(`settings-rateLimits-rules-${n}-audience`).selectOption('@guest')
    await page.getByRole('button', { name: 'Remove rule 3 (/api/batch)' }).click()
    await page.getByLabel('Enable rate limits').check()
    await save()
    await status(settingsForm(), 'Settings saved.')
    const saved = (await api.settings.getAll()).rateLimits
    expect(saved.enabled).toBe(true)
    expect(saved.rules).toEqual([
      { label: '*:auth', audience: '', duration: 3, maxRequests: 2 },
      { label: '*:create', audience: '', duration: 5, maxRequests: 20 },
      { label: '/api/', audience: '', duration: 10, maxRequests: 300 },
      { label: 'members:create', audience: '@guest', duration: 60, maxRequests: 5 },
    ])
    // the limiter is on: the rule now holds guests to 5 sign-ups a minute
    const guest = new PocketBase(server.url)
    const codes: number[] = []
    for (let i = 0; i < 6; i++)
      codes.push(
        await guest
          .collection('members')
          .create({ email: `g${i}@example.com`, password: OLD_PASSWORD, passwordConfirm: OLD_PASSWORD })
          .then(
            () => 200,
            (err: { status: number }) => err.status,
          ),
      )
    expect(codes.at(-1)).toBe(429)
  })

  it('sends a test email through the SMTP settings to a real SMTP server', async () => {
    await page.getByLabel('Send through an SMTP server').check()
    await page.getByLabel('SMTP host').fill('127.0.0.1')
    await page.getByLabel('SMTP port').fill(String(sink.port))
    await page.getByLabel('Sender address').fill('noreply@acme.example.com')
    // the test uses the saved settings: not before they are saved
    expect(await page.getByRole('button', { name: 'Send test email' }).isDisabled()).toBe(true)
    await save()
    await status(settingsForm(), 'Settings saved.')
    const smtp = (await api.settings.getAll()).smtp
    expect(smtp).toMatchObject({ enabled: true, host: '127.0.0.1', port: sink.port })
    expect(smtp).not.toHaveProperty('password')

    await page.getByRole('button', { name: 'Send test email' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('To').fill('not an address')
    await dialog.getByRole('button', { name: 'Send' }).click()
    await expect.poll(() => dialog.locator('#test-email-to-error').textContent()).toMatch(/email/i)
    await accessible('the test email dialog with an error')
    await dialog.getByLabel('To').fill('probe@example.com')
    await dialog.getByLabel('Password reset').check()
    await dialog.getByLabel(/^Auth collection/).selectOption('members')
    await dialog.getByRole('button', { name: 'Send' }).click()
    await status(dialog, 'Sent to probe@example.com.')
    const mail = await sink.waitFor('probe@example.com')
    expect(mail.from).toContain('noreply@acme.example.com')
    expect(mail.subject).toMatch(/reset/i)
    expect(mail.html + mail.text).toContain('https://acme.example.com')
    await dialog.getByRole('button', { name: 'Close' }).click()
    await expect.poll(() => dialog.count()).toBe(0)
  })

  it('tests the S3 connection and shows the failure in words; the empty secret keeps the stored one', async () => {
    await page.getByLabel('Store files in S3').check()
    await page.getByLabel('Bucket').fill('uploads')
    await page.getByLabel('Region').fill('us-east-1')
    await page.getByLabel('Endpoint').fill('http://127.0.0.1:9')
    await page.getByLabel('Access key').fill('access-1')
    await page.getByLabel('Secret').fill('secret-1')
    await page.getByLabel('Force path-style addressing').check()
    expect(await page.getByRole('button', { name: 'Test connection' }).isDisabled()).toBe(true)
    await save()
    await status(settingsForm(), 'Settings saved.')
    const s3 = (await api.settings.getAll()).s3
    expect(s3).toMatchObject({
      enabled: true,
      bucket: 'uploads',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
    })
    expect(s3).not.toHaveProperty('secret')
    expect(await page.getByLabel('Secret').inputValue()).toBe('')

    // a change elsewhere leaves the secret out of the PATCH, and the server keeps it (else: "Cannot be blank")
    await page.getByLabel('Region').fill('eu-west-1')
    expect(await patchSent(save)).toEqual({ s3: { region: 'eu-west-1' } })
    await status(settingsForm(), 'Settings saved.')

    await page.getByRole('button', { name: 'Test connection' }).click()
    const failure = page.locator('.error.block').filter({ hasText: 'Failed to test the S3 filesystem.' })
    await expect.poll(() => failure.count(), { timeout: 30_000 }).toBe(1)
    // the words are the server's own answer to the same test
    const answer = await api.settings.testS3('storage').then(
      () => 'the test passed',
      (err: { response: { message: string } }) => err.response.message,
    )
    expect(answer).toMatch(/^Failed to test the S3 filesystem. Raw error: \n\S/)
    expect((await failure.textContent())!.trim()).toBe(answer.trim())
    await accessible('the settings screen with an S3 error')

    await page.getByLabel('Store files in S3').uncheck()
    await save()
    await status(settingsForm(), 'Settings saved.')
    expect((await api.settings.getAll()).s3.enabled).toBe(false)
  })

  it('sets an auth collection’s token lifetimes and OAuth2 provider, errors by their inputs', async () => {
    await page
      .getByText('members', { exact: true })
      .filter({ has: page.locator('xpath=self::summary') })
      .click()
    const form = page.getByRole('form', { name: 'Tokens and OAuth2 of members' })
    await form.getByLabel('Auth token').fill('7200')
    await form.getByLabel('File access token').fill('1')
    await form.getByRole('button', { name: 'Add provider' }).click()
    await form.getByLabel('Name', { exact: true }).fill('nope')
    await form.getByLabel('Allow sign-in with OAuth2').check()
    await form.getByRole('button', { name: 'Save members' }).click()
    await expect.poll(() => byId('auth-members-fileToken-duration-error').textContent()).toMatch(/between/)
    expect(await byId('auth-members-oauth2-providers-0-name-error').textContent()).toMatch(/nope/)
    expect(await byId('auth-members-oauth2-providers-0-clientId-error').textContent()).toBe(
      'Cannot be blank.',
    )
    await accessible('the auth collection settings with errors')

    await form.getByLabel('File access token').fill('120')
    await form.getByLabel('Name', { exact: true }).fill('github')
    await form.getByLabel('Client id').fill('client-1')
    await form.getByLabel('Client secret').fill('client-secret-1')
    await form.getByRole('button', { name: 'Save members' }).click()
    await status(form, 'Saved members.')
    const members = await api.collections.getOne('members')
    expect(members.authToken).toEqual({ duration: 7200 })
    expect(members.fileToken).toEqual({ duration: 120 })
    expect(members.oauth2.enabled).toBe(true)
    expect(members.oauth2.providers).toEqual([
      expect.objectContaining({ name: 'github', clientId: 'client-1' }),
    ])
    const methods = await new PocketBase(server.url).collection('members').listAuthMethods()
    expect(methods.oauth2.providers.map((p) => p.name)).toEqual(['github'])
    // a user's sign-in now lasts two hours
    const auth = await new PocketBase(server.url)
      .collection('members')
      .authWithPassword('renamed@example.com', NEW_PASSWORD)
    const exp = (
      JSON.parse(Buffer.from(auth.token.split('.')[1]!, 'base64url').toString()) as { exp: number }
    ).exp
    expect(exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(7100)
    expect(exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(7200)
  })

  it('is readable on a phone and in dark mode, with no console errors', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${server.url}/_/#/settings`)
    await page.reload()
    await expect.poll(() => page.getByLabel('Application name').inputValue()).toBe('Acme Galley')
    const overflow = await page.evaluate('document.scrollingElement.scrollWidth - window.innerWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    await accessible('the settings screen at 390 px')
    await page.emulateMedia({ colorScheme: 'dark' })
    await accessible('the settings screen, dark')
    await page.goto(`${server.url}/_/#/collections/members`)
    await page.getByRole('button', { name: `Edit record ${memberId}` }).click()
    await expect
      .poll(() => page.getByRole('dialog').getByRole('heading', { name: 'Account' }).count())
      .toBe(1)
    const panelOverflow = await page.evaluate(
      'document.querySelector("dialog").scrollWidth - document.querySelector("dialog").clientWidth',
    )
    expect(panelOverflow).toBeLessThanOrEqual(0)
    // the side panel takes the whole width of a phone, with no gap on its left
    const box = (await page.getByRole('dialog').boundingBox())!
    expect(Math.abs(box.x)).toBeLessThanOrEqual(1)
    expect(Math.abs(box.width - page.viewportSize()!.width)).toBeLessThanOrEqual(1)
    await accessible('the user panel at 390 px, dark')
    await page.keyboard.press('Escape')
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 1280, height: 800 })
    expect(b.consoleErrors).toEqual([])
  })
})
