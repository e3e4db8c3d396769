import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthService } from '../../auth/index.js'
import { requireSuperuser } from '../guards.js'

type Params = { c: string }

const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i

/**
 * The body as the forms read it: a form body infers `12345678` as a number and `true` as a boolean
 * (§1.2), while PocketBase binds these forms to string fields, so scalars become text again.
 */
function formBody(req: FastifyRequest): unknown {
  const body = req.body
  if (!FORM.test(req.headers['content-type'] ?? '') || typeof body !== 'object' || body === null) return body
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [
      k,
      typeof v === 'number' || typeof v === 'boolean' ? String(v) : v,
    ]),
  )
}

const noContent = (reply: FastifyReply) => reply.status(204).send()

/**
 * Verification, password reset and email change (§8.10), and the settings' test email (§13.2),
 * which sends the same templates.
 */
export function authMailFlowRoutes(auth: AuthService) {
  const flows = auth.mailFlows
  return async (app: FastifyInstance): Promise<void> => {
    const route = (
      path: string,
      run: (
        req: FastifyRequest<{ Params: Params }>,
        c: ReturnType<AuthService['authCollection']>,
      ) => Promise<void>,
    ) =>
      app.post<{ Params: Params }>(`/api/collections/:c/${path}`, async (req, reply) => {
        await run(req, auth.authCollection(req.params.c))
        return noContent(reply)
      })
    route('request-verification', (req, c) => flows.requestVerification(c, formBody(req)))
    route('confirm-verification', (req, c) => flows.confirmVerification(c, formBody(req)))
    route('request-password-reset', (req, c) => flows.requestPasswordReset(c, formBody(req)))
    route('confirm-password-reset', (req, c) => flows.confirmPasswordReset(c, formBody(req)))
    route('request-email-change', (req, c) => flows.requestEmailChange(c, req.actor, formBody(req)))
    route('confirm-email-change', (req, c) => flows.confirmEmailChange(c, formBody(req)))

    app.post('/api/settings/test/email', async (req, reply) => {
      requireSuperuser(req)
      await flows.sendTestEmail(formBody(req))
      return noContent(reply)
    })
  }
}
