import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`authRule on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      const su = await running.asSuperuser()
      for (const email of ['plain@example.com', 'checked@example.com'])
        await su
          .collection('users')
          .create({ email, password: 'password123', passwordConfirm: 'password123' })
      const checked = await su.collection('users').getFirstListItem('email = "checked@example.com"')
      await su.collection('users').update(checked.id, { verified: true })
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    const signIn = (email: string) =>
      running
        .sdk()
        .collection('users')
        .authWithPassword(email, 'password123')
        .then(
          () => 200,
          (e: { status: number; response: { message: string } }) => {
            expect(e.response.message).toBe(
              "The request doesn't satisfy the collection requirements to authenticate.",
            )
            return e.status
          },
        )

    it('"" lets everyone with the right password in', async () => {
      expect(await signIn('plain@example.com')).toBe(200)
    })

    it('an expression is checked against the record signing in', async () => {
      const su = await running.asSuperuser()
      await su.collections.update('users', { authRule: 'verified = true' })
      expect(await signIn('plain@example.com')).toBe(403)
      expect(await signIn('checked@example.com')).toBe(200)
      await su.collections.update('users', { authRule: '@request.auth.email ~ "checked"' })
      expect(await signIn('plain@example.com')).toBe(403)
      expect(await signIn('checked@example.com')).toBe(200)
    })

    it('null lets nobody in', async () => {
      const su = await running.asSuperuser()
      await su.collections.update('users', { authRule: null })
      expect(await signIn('checked@example.com')).toBe(403)
      await su.collections.update('users', { authRule: '' })
      expect(await signIn('checked@example.com')).toBe(200)
    })
  })
}
