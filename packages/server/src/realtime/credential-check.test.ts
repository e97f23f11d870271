import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { PASSWORD, passwordSignIn } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { listen, setupRealtimeBlog } from '../test-support/realtime-blog.js'

// A slow database, as under load: each check of the connected streams' sessions takes a while.
vi.mock('../auth/active-credentials.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../auth/active-credentials.js')>()
  return {
    ...original,
    activeCredentials: async (...args: Parameters<typeof original.activeCredentials>) => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      return original.activeCredentials(...args)
    },
  }
})

describe.each(testDialects)('checking the sessions of realtime streams on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => t?.close())

  test('a stream that opens while a check is under way is not taken for a revoked one', async () => {
    t = await createTestApp(kind)
    const base = await listen(t)
    await setupRealtimeBlog(t)
    // Each stream its own session, so none is known to a check that began before it opened.
    const tokens: string[] = []
    for (let i = 0; i < 8; i++) {
      const signIn = await passwordSignIn(t, 'alice@example.com', { password: PASSWORD })
      expect(signIn.statusCode, signIn.body).toBe(200)
      tokens.push(signIn.json().token)
    }
    const streams: SseStream[] = []
    for (const token of tokens) {
      streams.push(await openStream(base, { authorization: `Bearer ${token}` }))
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    // Long enough for every stream to have been in a check that knew its session.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const ended = streams.filter((stream) => stream.messages.some((message) => message.event === 'PB_END'))
    for (const stream of streams) stream.close()
    expect(ended.map((stream) => stream.messages.at(-1)!.data)).toEqual([])
  })

  test('a stream that signs its subscriptions in while a check is under way is not taken for a revoked one', async () => {
    t = await createTestApp(kind)
    const base = await listen(t)
    await setupRealtimeBlog(t)
    const streams: SseStream[] = []
    // Opened as a guest, so the first checks know no session for them.
    for (let i = 0; i < 8; i++) streams.push(await openStream(base))
    for (const stream of streams) {
      const signIn = await passwordSignIn(t, 'alice@example.com', { password: PASSWORD })
      const token = signIn.json().token
      const subscribed = await setSubscriptions(
        base,
        { clientId: stream.clientId, subscriptions: ['posts/*'] },
        token,
      )
      expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(204)
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const ended = streams.filter((stream) => stream.messages.some((message) => message.event === 'PB_END'))
    for (const stream of streams) stream.close()
    expect(ended.map((stream) => stream.messages.at(-1)!.data)).toEqual([])
  })
})
