import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

export interface TestAccount {
  email?: string
  email_verified?: boolean
  name?: string
}

export interface TestOidcProvider {
  issuer: string
  clientId: string
  clientSecret: string
  /** Accounts by id; a test may add or change them at any time. */
  accounts: Map<string, TestAccount>
  /**
   * Plays the browser: opens `authURL`, signs in as `accountId` on the provider's
   * development login form, consents, and returns the parameters the provider sends
   * to the redirect URL (which nobody listens on: only the Location header is read).
   */
  authorize(authURL: string, accountId: string): Promise<URLSearchParams>
  close(): Promise<void>
}

/** A real OpenID provider (npm oidc-provider) on 127.0.0.1 with one confidential client. */
export async function startOidcProvider(redirectURL: string): Promise<TestOidcProvider> {
  const accounts = new Map<string, TestAccount>()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const clientId = 'plinth-test'
  const clientSecret = 'plinth-test-secret-0123456789abcdef'
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectURL],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['test-cookie-signing-key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      const account = accounts.get(id)
      if (!account) return undefined
      return { accountId: id, claims: async () => ({ sub: id, ...account }) }
    },
  })
  server.on('request', provider.callback())

  async function authorize(authURL: string, accountId: string): Promise<URLSearchParams> {
    const cookies = new Map<string, string>()
    let url = new URL(authURL)
    let form: URLSearchParams | undefined
    for (let step = 0; step < 12; step += 1) {
      const response = await fetch(url, {
        method: form ? 'POST' : 'GET',
        body: form,
        redirect: 'manual',
        headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      })
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const at = pair!.indexOf('=')
        cookies.set(pair!.slice(0, at), pair!.slice(at + 1))
      }
      form = undefined
      const location = response.headers.get('location')
      if (location) {
        const next = new URL(location, url)
        if (next.href.startsWith(redirectURL)) return next.searchParams
        url = next
        continue
      }
      const page = await response.text()
      if (response.status !== 200)
        throw new Error(`provider answered ${response.status}: ${page.slice(0, 300)}`)
      form = page.includes('name="prompt" value="login"')
        ? new URLSearchParams({ prompt: 'login', login: accountId, password: 'any' })
        : new URLSearchParams({ prompt: 'consent' })
    }
    throw new Error('the provider did not redirect back')
  }

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    authorize,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve()
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
