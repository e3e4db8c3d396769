import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { axeViolations, launchBrowser, type TestBrowser } from './helpers/browser.js'
import { startServe, type GalleyProcess } from './helpers/process.js'

const EMAIL = 'owner@example.com'
const PASSWORD = 'dashboard pass 123'

/**
 * The dashboard in Debian's Chromium against a real `galley serve` (SQLite): the printed first-run
 * link, sign-in, a collection with several field types and a rule, then records. Each step is
 * checked on screen and through the API. One browser and one page for the whole file. Each test
 * may take a minute: under `npm test` the whole suite shares two cores with this browser.
 */
describe('the dashboard at /_/ in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let server: GalleyProcess
  let b: TestBrowser
  let page: Page
  let api: PocketBase
  let launchError: unknown

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-ui-'))
    server = await startServe(['--dir', dir])
    try {
      b = await launchBrowser()
      page = b.page
    } catch (err) {
      launchError = err // every test then fails with it (a missing browser never skips)
    }
    api = new PocketBase(server.url)
    api.autoCancellation(false)
  }, 60_000)
  beforeEach(() => {
    if (launchError) throw launchError
  })
  afterAll(async () => {
    await b?.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** axe on the current screen; `what` names it in the failure. */
  async function accessible(what: string) {
    expect(await axeViolations(page), `axe on ${what}`).toEqual([])
  }
  const main = () => page.locator('main')

  it('creates the first superuser from the link serve printed', async () => {
    const link = /(http:\/\/\S+\/_\/#\/install\/\S+)/.exec(server.output())?.[1]
    expect(link, server.output()).toBeDefined()
    await page.goto(link!)
    await expect.poll(() => page.getByRole('heading', { name: 'Create the first superuser' }).count()).toBe(1)
    await accessible('the install screen')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByLabel('Password again').fill('something else')
    await page.getByRole('button', { name: 'Create and sign in' }).click()
    // the server's error, next to the field that caused it
    await expect.poll(() => page.locator('#install-confirm-error').textContent()).toBe("Values don't match.")
    await page.getByLabel('Password again').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create and sign in' }).click()
    await page.waitForURL(/#\/collections$/)
    await expect.poll(() => page.locator('.topbar').textContent()).toContain(EMAIL)
    await accessible('the collections screen')

    await api.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
    expect(api.authStore.isSuperuser).toBe(true)
    // the link is used up
    await page.goto(link!)
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('A superuser already exists')
  })

  it('signs out, refuses a wrong password in words, signs in by keyboard and keeps the session', async () => {
    await page.goto(`${server.url}/_/#/collections`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/#\/login$/)
    await accessible('the sign-in screen')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill('wrong password!')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Failed to authenticate.')

    await page.getByLabel('Email').focus()
    await page.keyboard.press('Control+A')
    await page.keyboard.type(EMAIL)
    await page.keyboard.press('Tab')
    await page.keyboard.press('Control+A')
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Enter')
    await page.waitForURL(/#\/collections$/)
    // a reload refreshes the stored session instead of asking again
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/auth-refresh') && r.status() === 200)
    await page.reload()
    await refreshed
    await expect.poll(() => page.locator('.topbar').textContent()).toContain(EMAIL)
  })

  it('ends a session the server revoked, in words, on the next request', async () => {
    const other = new PocketBase(server.url)
    await other.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
    // a password change rotates the tokenKey: every token issued before is dead
    const me = other.authStore.record!
    await other.collection('_superusers').update(me.id, { password: PASSWORD, passwordConfirm: PASSWORD })
    await page.getByRole('link', { name: 'users' }).click()
    await page.getByRole('link', { name: 'Edit collection' }).click()
    await page.getByRole('button', { name: 'Save changes' }).click() // answered 401
    await page.waitForURL(/#\/login$/)
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your session ended')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/#\/collections$/)
    await api.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
  })

  it('creates a collection with twelve field types and a rule, showing the rule error first', async () => {
    await page.getByRole('link', { name: 'New collection' }).click()
    await page.waitForURL(/#\/new-collection$/)
    await page.getByLabel('Name', { exact: true }).first().fill('posts')
    const add = async (type: string, name: string) => {
      await page.getByLabel('Type of the new field').selectOption(type)
      await page.getByRole('button', { name: 'Add field' }).click()
      await page.locator('.field-editor').last().getByLabel('Name', { exact: true }).fill(name)
    }
    await add('text', 'title')
    await page.locator('.field-editor').last().getByLabel('Required').check()
    await add('number', 'views')
    await add('bool', 'published')
    await add('email', 'contact')
    await add('url', 'site')
    await add('date', 'due')
    await add('select', 'status')
    await page.locator('.field-editor').last().getByLabel('Choices').fill('draft, live')
    await add('json', 'meta')
    await add('relation', 'owner')
    await page.locator('.field-editor').last().getByLabel('Collection').selectOption({ label: 'users' })
    await add('file', 'attachment')
    await add('editor', 'body')
    await add('geoPoint', 'place')
    await accessible('the new-collection form')

    const listRule = page.getByLabel('List/Search rule')
    await page.locator('.rule').first().getByLabel('Superusers only').uncheck()
    await listRule.fill('nope = 1')
    await page.getByRole('button', { name: 'Create', exact: true }).click()
    await expect.poll(() => page.locator('#rule-listRule-error').textContent()).toMatch(/nope/)
    expect(await listRule.getAttribute('aria-invalid')).toBe('true')
    await listRule.fill('views >= 0')
    await page.getByRole('button', { name: 'Create', exact: true }).click()
    await page.waitForURL(/#\/collections\/posts$/)
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('posts')

    const posts = await api.collections.getOne('posts')
    expect(posts.listRule).toBe('views >= 0')
    expect(posts.viewRule).toBeNull()
    const types = Object.fromEntries(posts.fields.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      id: 'text',
      title: 'text',
      views: 'number',
      published: 'bool',
      contact: 'email',
      site: 'url',
      due: 'date',
      status: 'select',
      meta: 'json',
      owner: 'relation',
      attachment: 'file',
      body: 'editor',
      place: 'geoPoint',
      created: 'autodate',
      updated: 'autodate',
    })
    expect(posts.fields.find((f) => f.name === 'status')?.values).toEqual(['draft', 'live'])
    expect(posts.fields.find((f) => f.name === 'title')?.required).toBe(true)
    const users = await api.collections.getOne('users')
    expect(posts.fields.find((f) => f.name === 'owner')?.collectionId).toBe(users.id)
  })

  it('adds a record with every editor, after showing the server’s field errors', async () => {
    const user = await api
      .collection('users')
      .create({ email: 'u1@example.com', password: 'user pass 123', passwordConfirm: 'user pass 123' })
    await page.getByRole('button', { name: 'New record' }).click()
    const panel = page.getByRole('dialog')
    await panel.getByLabel(/^views/).fill('7')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.locator('#input-title-error').textContent()).toBe('Cannot be blank.')
    await panel.getByLabel('meta').fill('{oops')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.locator('#input-meta-error').textContent()).toMatch(/^Invalid JSON/)
    await accessible('the record panel with errors')

    await panel.getByLabel(/^title/).fill('First post')
    await panel.getByLabel('published').check()
    await panel.getByLabel(/^contact/).fill('me@example.com')
    await panel.getByLabel(/^site/).fill('https://example.com/a')
    await panel.getByLabel(/^due/).fill('2030-01-02T03:04:05')
    await panel.getByLabel(/^status/).selectOption('live')
    await panel.getByLabel('meta').fill('{"tags": ["a", "b"]}')
    // the relation picker searches the target collection and shows the chosen record's label
    await panel.getByLabel(/^owner/).fill('u1@')
    const option = panel.getByRole('option', { name: /u1@example\.com/ })
    await expect.poll(() => option.count()).toBe(1)
    expect(await option.textContent()).toContain(user.id)
    await panel.getByLabel(/^owner/).press('Enter')
    await expect
      .poll(() => panel.getByRole('list', { name: 'Chosen owner' }).textContent())
      .toContain('u1@example.com')
    await panel.getByLabel(/^attachment/).setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello from the dashboard'),
    })
    await panel.getByLabel(/^body/).fill('<p>Hello</p>')
    await panel.getByLabel('Longitude').fill('2.35')
    await panel.getByLabel('Latitude').fill('48.85')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.count()).toBe(0)
    await expect.poll(() => main().locator('tbody').textContent()).toContain('First post')
    // the relation cell names the user, not only the id
    expect(await main().locator('td[data-field="owner"]').textContent()).toBe('u1@example.com')

    const [r] = (await api.collection('posts').getFullList()) as Record<string, unknown>[]
    expect(r).toMatchObject({
      title: 'First post',
      views: 7,
      published: true,
      contact: 'me@example.com',
      site: 'https://example.com/a',
      due: '2030-01-02 03:04:05.000Z',
      status: 'live',
      meta: { tags: ['a', 'b'] },
      owner: user.id,
      body: '<p>Hello</p>',
      place: { lon: 2.35, lat: 48.85 },
    })
    expect(r!.attachment).toMatch(/^notes_\w+\.txt$/)
    const file = await fetch(`${server.url}/api/files/posts/${String(r!.id)}/${String(r!.attachment)}`)
    expect(await file.text()).toBe('hello from the dashboard')
  })

  it('edits a record in the side panel', async () => {
    await main()
      .getByRole('button', { name: /^Edit record/ })
      .click()
    const panel = page.getByRole('dialog')
    await panel.getByLabel(/^title/).fill('First post, edited')
    await panel.getByLabel(/^views/).fill('12')
    // the stored file opens from its link
    const href = await panel.getByRole('link', { name: /^notes_\w+\.txt$/ }).getAttribute('href')
    expect(await (await fetch(href!)).text()).toBe('hello from the dashboard')
    await panel.getByLabel(/Remove notes_/).check()
    await panel.getByRole('button', { name: 'Save changes' }).click()
    await expect.poll(() => panel.count()).toBe(0)
    await expect.poll(() => main().locator('tbody').textContent()).toContain('First post, edited')
    const [r] = await api.collection('posts').getFullList()
    expect(r).toMatchObject({ title: 'First post, edited', views: 12, attachment: '' })
  })

  it('filters (errors inline), sorts by a column and pages', async () => {
    for (const [title, views] of [
      ['Second', 3],
      ['Third', 30],
      ['Fourth', 1],
    ] as const)
      await api.collection('posts').create({ title, views })
    await page.reload()
    const rows = () => main().locator('tbody tr')
    await expect.poll(() => rows().count()).toBe(4)

    const filter = page.getByLabel('Filter')
    await filter.fill('views >')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await expect.poll(() => page.locator('#records-filter-error').textContent()).toMatch(/Invalid filter/)
    expect(await filter.getAttribute('aria-invalid')).toBe('true')
    await filter.fill('views > 5')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await expect.poll(() => rows().count()).toBe(2)
    expect(await page.locator('#records-filter-error').isHidden()).toBe(true)
    const api5 = await api.collection('posts').getFullList({ filter: 'views > 5' })
    expect(api5.map((r) => r.title as string).sort()).toEqual(['First post, edited', 'Third'])
    await accessible('the records table, filtered')

    await filter.fill('')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await expect.poll(() => rows().count()).toBe(4)
    const header = main().getByRole('button', { name: /^views/ })
    const titles = () => rows().locator('td[data-field="title"]').allTextContents()
    await header.click()
    const asc = (await api.collection('posts').getFullList({ sort: 'views' })).map((r) => r.title as string)
    await expect.poll(titles).toEqual(asc)
    expect(await main().locator('th[aria-sort="ascending"]').textContent()).toContain('views')
    await header.click()
    await expect.poll(titles).toEqual([...asc].reverse())
    expect(asc).toEqual(['Fourth', 'Second', 'First post, edited', 'Third'])

    await page.getByLabel('Per page').selectOption('10')
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'records' }).textContent())
      .toBe('4 records, page 1 of 1')
  })

  it('deletes a record after a confirmation', async () => {
    const victim = (await api.collection('posts').getFullList({ filter: 'title = "Fourth"' }))[0]!
    await main()
      .getByRole('button', { name: `Delete record ${victim.id}` })
      .click()
    const dialog = page.getByRole('dialog')
    expect(await dialog.textContent()).toContain(victim.id)
    await accessible('the delete-record confirmation')
    // Escape cancels (focus starts on Cancel, the safe choice), nothing is deleted
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Cancel')
    await page.keyboard.press('Escape')
    await expect.poll(() => dialog.count()).toBe(0)
    expect((await api.collection('posts').getOne(victim.id)).id).toBe(victim.id)
    await main()
      .getByRole('button', { name: `Delete record ${victim.id}` })
      .focus()
    await page.keyboard.press('Enter')
    await dialog.getByRole('button', { name: 'Delete record' }).click()
    await expect.poll(() => dialog.count()).toBe(0)
    await expect.poll(() => main().locator('tbody tr').count()).toBe(3)
    await expect(api.collection('posts').getOne(victim.id)).rejects.toMatchObject({ status: 404 })
  })

  it('renames a collection and shows schema errors by the field', async () => {
    await page.getByRole('link', { name: 'Edit collection' }).click()
    await page.waitForURL(/#\/collections\/posts\/schema$/)
    await accessible('the collection editor')
    const legends = await page.locator('.field-editor legend').allTextContents()
    const title = page.locator('.field-editor').nth(legends.findIndex((t) => /\btitle\b/.test(t)))
    await title.getByLabel('Name', { exact: true }).fill('bad name!')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect.poll(() => title.locator('.error').first().textContent()).toMatch(/./)
    await title.getByLabel('Name', { exact: true }).fill('title')
    await page.locator('#collection-name').fill('articles')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.waitForURL(/#\/collections\/articles\/schema$/)
    const renamed = await api.collections.getOne('articles')
    expect(renamed.fields.map((f) => f.name)).toContain('title')
    expect((await api.collection('articles').getFullList()).length).toBe(3)
    await expect.poll(() => page.locator('.sidebar').textContent()).toContain('articles')
  })

  it('is readable on a phone and in dark mode, with no console errors', async () => {
    await page.goto(`${server.url}/_/#/collections/articles`)
    await page.setViewportSize({ width: 390, height: 844 })
    await expect.poll(() => main().locator('tbody tr').count()).toBe(3)
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    await accessible('the records screen at 390 px')
    await page.emulateMedia({ colorScheme: 'dark' })
    await accessible('the records screen, dark')
    await page.setViewportSize({ width: 1280, height: 800 })
    await accessible('the records screen at 1280 px, dark')
    await page.emulateMedia({ colorScheme: 'light' })
    expect(b.consoleErrors).toEqual([])
  })

  it('deletes a collection after a confirmation that names what is lost', async () => {
    await page.goto(`${server.url}/_/#/collections/articles/schema`)
    await page.getByRole('button', { name: 'Delete collection' }).click()
    const dialog = page.getByRole('dialog')
    await expect.poll(() => dialog.textContent()).toContain('3 records')
    expect(await dialog.textContent()).toContain('title')
    await dialog.getByRole('button', { name: 'Delete articles for good' }).click()
    await page.waitForURL(/#\/collections$/)
    await expect(api.collections.getOne('articles')).rejects.toMatchObject({ status: 404 })
    expect(await page.locator('.sidebar').textContent()).not.toContain('articles')
    expect(b.consoleErrors).toEqual([])
  })

  it('creates a view collection (read-only records) and an auth collection with a user', async () => {
    await page.goto(`${server.url}/_/#/new-collection`)
    await page.locator('#collection-name').fill('user_emails')
    await page.getByLabel('Type', { exact: true }).selectOption('view')
    await page.getByLabel(/^View query/).fill('SELECT id, email FROM users')
    await accessible('the new view form')
    await page.getByRole('button', { name: 'Create', exact: true }).click()
    await page.waitForURL(/#\/collections\/user_emails$/)
    await expect.poll(() => main().locator('tbody').textContent()).toContain('u1@example.com')
    expect(await page.getByRole('button', { name: 'New record' }).count()).toBe(0)
    const view = await api.collections.getOne('user_emails')
    expect(view.type).toBe('view')
    expect(view.fields.map((f) => f.name)).toEqual(['id', 'email'])

    await page.getByRole('link', { name: 'New collection' }).click()
    await page.locator('#collection-name').fill('members')
    await page.getByLabel('Type', { exact: true }).selectOption('auth')
    await page.getByLabel('Type of the new field').selectOption('text')
    await page.getByRole('button', { name: 'Add field' }).click()
    await page.locator('.field-editor').last().getByLabel('Name', { exact: true }).fill('nickname')
    // an auth collection has two more rules, with their defaults: anyone may sign in, nobody manages
    expect(await page.getByLabel(/^Auth rule/).inputValue()).toBe('')
    expect(await page.getByLabel(/^Auth rule/).isEnabled()).toBe(true)
    expect(await page.getByLabel(/^Manage rule/).isDisabled()).toBe(true)
    await page.getByLabel(/^Auth rule/).fill('verified = false || verified = true')
    await accessible('the new auth collection form')
    await page.getByRole('button', { name: 'Create', exact: true }).click()
    await page.waitForURL(/#\/collections\/members$/)
    const members = await api.collections.getOne('members')
    expect(members.type).toBe('auth')
    expect(members.authRule).toBe('verified = false || verified = true')
    expect(members.manageRule).toBeNull()
    expect(members.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['email', 'password', 'nickname']),
    )

    await page.getByRole('button', { name: 'New record' }).click()
    const panel = page.getByRole('dialog')
    // a new user has nothing to act on yet: the form has email, verified and the password
    expect(await panel.getByLabel('verified', { exact: true }).count()).toBe(1)
    await panel.getByLabel(/^email/).fill('member@example.com')
    await panel.getByLabel(/^nickname/).fill('Mem')
    await panel.getByLabel('Password', { exact: true }).fill('member pass 123')
    await panel.getByLabel('Password again').fill('member pass 124')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.locator('#input-passwordConfirm-error').textContent()).toMatch(/match/)
    await panel.getByLabel('Password again').fill('member pass 123')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.count()).toBe(0)
    const member = new PocketBase(server.url)
    const auth = await member.collection('members').authWithPassword('member@example.com', 'member pass 123')
    expect(auth.record.nickname).toBe('Mem')
    expect(b.consoleErrors).toEqual([])
  })
})
