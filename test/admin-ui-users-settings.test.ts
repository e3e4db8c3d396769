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
    await accessible('the record panel of a user')
  })

  it('marks the user verified and unverified', async () => {
    const panel = page.getByRole('dialog')
    await panel.getByRole('button', { name: 'Mark as verified' }).click()
    await status(panel, 'Marked as verified.')
    expect((await api.collection('members').getOne(memberId)).verified).toBe(true)
    // the panel's own form follows, so its Save would not undo the change
    expect(await panel.getByLabel('verified', { exact: true }).isChecked()).toBe(true)
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
})
