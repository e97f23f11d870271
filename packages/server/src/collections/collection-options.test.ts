import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const PASSWORD = 'a long password 1'

/** An auth collection with one field fit for an identity (unique text) and some that are not. */
const membersDefinition = {
  name: 'members',
  type: 'auth',
  createRule: '',
  fields: [
    { name: 'username', type: 'text', max: 30 },
    { name: 'nickname', type: 'text' },
    { name: 'badge', type: 'number' },
  ],
  indexes: [
    { fields: ['username'], unique: true },
    { fields: ['badge'], unique: true },
  ],
}

const badOptions: Array<{ name: string; options: unknown; key: string; code?: string }> = [
  { name: 'options that are a list', options: [], key: 'options', code: 'invalid_type' },
  { name: 'an unknown key', options: { nope: 1 }, key: 'options.nope', code: 'unknown_field' },
  { name: 'onlyVerified not a bool', options: { onlyVerified: 'yes' }, key: 'options.onlyVerified' },
  { name: 'identityFields not a list', options: { identityFields: 'email' }, key: 'options.identityFields' },
  { name: 'identityFields empty', options: { identityFields: [] }, key: 'options.identityFields' },
  {
    name: 'an identity field that does not exist',
    options: { identityFields: ['login'] },
    key: 'options.identityFields.0',
  },
  {
    name: 'an identity field without a unique index',
    options: { identityFields: ['email', 'nickname'] },
    key: 'options.identityFields.1',
  },
  {
    name: 'an identity field that is not text',
    options: { identityFields: ['badge'] },
    key: 'options.identityFields.0',
  },
  {
    name: 'a system field as identity',
    options: { identityFields: ['tokenKey'] },
    key: 'options.identityFields.0',
  },
  {
    name: 'an identity field listed twice',
    options: { identityFields: ['username', 'username'] },
    key: 'options.identityFields.1',
    code: 'duplicate',
  },
  { name: 'otp not an object', options: { otp: true }, key: 'options.otp', code: 'invalid_type' },
  { name: 'otp without enabled', options: { otp: { length: 8 } }, key: 'options.otp.enabled' },
  { name: 'otp.enabled not a bool', options: { otp: { enabled: 1 } }, key: 'options.otp.enabled' },
  {
    name: 'otp.length below 6',
    options: { otp: { enabled: true, length: 5 } },
    key: 'options.otp.length',
    code: 'out_of_range',
  },
  {
    name: 'otp.length above 10',
    options: { otp: { enabled: true, length: 11 } },
    key: 'options.otp.length',
    code: 'out_of_range',
  },
  {
    name: 'otp.length not whole',
    options: { otp: { enabled: true, length: 6.5 } },
    key: 'options.otp.length',
    code: 'invalid_type',
  },
  {
    name: 'an unknown otp key',
    options: { otp: { enabled: true, digits: 6 } },
    key: 'options.otp.digits',
    code: 'unknown_field',
  },
  {
    name: 'mfa.enabled (the option is mfa.required)',
    options: { mfa: { enabled: true } },
    key: 'options.mfa.enabled',
    code: 'unknown_field',
  },
  { name: 'mfa.required not a bool', options: { mfa: { required: 'yes' } }, key: 'options.mfa.required' },
  {
    name: 'a passkey option (passkeys are always on)',
    options: { passkey: { enabled: true } },
    key: 'options.passkey',
    code: 'unknown_field',
  },
  {
    name: 'a template of an unknown mail',
    options: { mailTemplates: { welcome: { subject: 'Hi' } } },
    key: 'options.mailTemplates.welcome',
  },
  {
    name: 'a template that is a string',
    options: { mailTemplates: { otp: 'Code {{CODE}}' } },
    key: 'options.mailTemplates.otp',
  },
  {
    name: 'a template without parts',
    options: { mailTemplates: { otp: {} } },
    key: 'options.mailTemplates.otp',
  },
  {
    name: 'a template part that is not a string',
    options: { mailTemplates: { otp: { subject: 42 } } },
    key: 'options.mailTemplates.otp.subject',
  },
  {
    name: 'a blank template part',
    options: { mailTemplates: { otp: { text: '   ' } } },
    key: 'options.mailTemplates.otp.text',
  },
  {
    name: 'an unknown template part',
    options: { mailTemplates: { otp: { body: '{{CODE}}' } } },
    key: 'options.mailTemplates.otp.body',
  },
  {
    name: 'an OTP text without the code',
    options: { mailTemplates: { otp: { text: 'Your code' } } },
    key: 'options.mailTemplates.otp.text',
    code: 'missing_placeholder',
  },
  {
    name: 'a verification HTML without the link',
    options: { mailTemplates: { verification: { html: '<p>Hi</p>' } } },
    key: 'options.mailTemplates.verification.html',
    code: 'missing_placeholder',
  },
  {
    name: 'a javascript: link base',
    options: { mailLinks: { verification: 'javascript:alert(1)' } },
    key: 'options.mailLinks.verification',
  },
  {
    name: 'an ftp link base',
    options: { mailLinks: { passwordReset: 'ftp://app.example/x' } },
    key: 'options.mailLinks.passwordReset',
  },
  {
    name: 'a link base with a fragment',
    options: { mailLinks: { emailChange: 'https://app.example/x#f' } },
    key: 'options.mailLinks.emailChange',
  },
  {
    name: 'a relative link base',
    options: { mailLinks: { verification: '/verify' } },
    key: 'options.mailLinks.verification',
  },
  {
    name: 'a link base for the OTP mail',
    options: { mailLinks: { otp: 'https://app.example/otp' } },
    key: 'options.mailLinks.otp',
    code: 'unknown_field',
  },
  {
    name: 'passwordPolicy not an object',
    options: { passwordPolicy: 'strong' },
    key: 'options.passwordPolicy',
  },
  {
    name: 'minLength below 8',
    options: { passwordPolicy: { minLength: 4 } },
    key: 'options.passwordPolicy.minLength',
    code: 'out_of_range',
  },
  {
    name: 'minLength above 256',
    options: { passwordPolicy: { minLength: 300 } },
    key: 'options.passwordPolicy.minLength',
    code: 'out_of_range',
  },
  {
    name: 'maxLength below minLength',
    options: { passwordPolicy: { minLength: 12, maxLength: 10 } },
    key: 'options.passwordPolicy.maxLength',
    code: 'out_of_range',
  },
  {
    name: 'maxLength above 256',
    options: { passwordPolicy: { maxLength: 1000 } },
    key: 'options.passwordPolicy.maxLength',
    code: 'out_of_range',
  },
  {
    name: 'a requirement that is not a bool',
    options: { passwordPolicy: { requireDigit: 'yes' } },
    key: 'options.passwordPolicy.requireDigit',
  },
  {
    name: 'an unknown requirement',
    options: { passwordPolicy: { requireEmoji: true } },
    key: 'options.passwordPolicy.requireEmoji',
    code: 'unknown_field',
  },
]

describe.each(testDialects)('options of collections on %s', (kind) => {
  describe('bad options', () => {
    // One app for the whole table: each case must leave it exactly as it was.
    let t: TestApp
    let before: unknown
    beforeAll(async () => {
      if (shouldSkip(kind)) return
      t = await createTestApp(kind)
      before = await createCollection(t, { ...membersDefinition, options: { onlyVerified: true } })
    })
    beforeEach((context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
    })
    afterAll(async () => t?.close())

    test.each(badOptions)('a change with $name is a 400 naming $key', async ({ options, key, code }) => {
      const response = await t.request({
        method: 'PATCH',
        url: '/api/collections/members',
        payload: { options },
      })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      const errors = response.json().errors
      expect(Object.keys(errors)).toContain(key)
      if (code) expect(errors[key].code).toBe(code)
      expect((await t.request({ method: 'GET', url: '/api/collections/members' })).json()).toEqual(before)
    })

    test.each(badOptions)(
      'a new collection with $name is a 400, and none is created',
      async ({ options, key }) => {
        const response = await t.request({
          method: 'POST',
          url: '/api/collections',
          payload: { ...membersDefinition, name: 'others', options },
        })
        expect(response.statusCode, response.body).toBe(400)
        expect(Object.keys(response.json().errors)).toContain(key)
        expect((await t.request({ method: 'GET', url: '/api/collections/others' })).statusCode).toBe(404)
      },
    )

    test('base collections take no options of auth collections', async () => {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name: 'notes', options: { onlyVerified: true } },
      })
      expect(response.statusCode).toBe(400)
      expect(response.json().errors['options.onlyVerified'].code).toBe('unknown_field')
      expect((await t.request({ method: 'GET', url: '/api/collections/notes' })).statusCode).toBe(404)
    })
  })

  describe('valid options', () => {
    let t: TestApp
    beforeEach(async (context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      t = await createTestApp(kind)
    })
    afterEach(async () => t?.close())

    const signIn = (identity: string, collection = 'members') =>
      t.request({
        method: 'POST',
        url: `/api/collections/${collection}/auth-with-password`,
        auth: null,
        payload: { identity, password: PASSWORD },
      })

    test('are stored as given, and auth-methods reports what they turn on', async () => {
      const options = {
        onlyVerified: false,
        identityFields: ['email', 'username'],
        otp: { enabled: true, length: 8 },
        mfa: { required: true },
        mailTemplates: {
          otp: { subject: '{{CODE}} is your code', text: 'Code: {{ CODE }}' },
          passwordReset: { html: '<a href="{{LINK}}">Reset</a>' },
          verification: { text: 'Your token: {{TOKEN}}' },
        },
        mailLinks: { verification: 'https://app.example/verify' },
        passwordPolicy: { minLength: 10, maxLength: 128, requireDigit: true, requireMixedCase: true },
      }
      const created = await createCollection(t, { ...membersDefinition, options })
      expect(created.options).toEqual(options)
      const methods = await t.request({
        method: 'GET',
        url: '/api/collections/members/auth-methods',
        auth: null,
      })
      expect(methods.json()).toMatchObject({
        password: { enabled: true, identityFields: ['email', 'username'] },
        otp: { enabled: true },
        mfa: { enabled: true, required: true },
        passkey: { enabled: true },
      })
      const plain = await createCollection(t, { name: 'plain', type: 'auth' })
      expect(plain.options).toEqual({})
      const defaults = await t.request({
        method: 'GET',
        url: '/api/collections/plain/auth-methods',
        auth: null,
      })
      expect(defaults.json()).toMatchObject({
        password: { enabled: true, identityFields: ['email'] },
        otp: { enabled: false },
        mfa: { enabled: true, required: false },
      })
    })

    test('identityFields and onlyVerified take effect on sign-in', async () => {
      await createCollection(t, { ...membersDefinition, options: { identityFields: ['username'] } })
      await createRecord(t, 'members', {
        email: 'bo@example.com',
        username: 'bo',
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      })
      expect((await signIn('bo')).statusCode).toBe(200)
      expect((await signIn('bo@example.com')).statusCode).toBe(400)
      const patched = await t.request({
        method: 'PATCH',
        url: '/api/collections/members',
        payload: { options: { identityFields: ['email'], onlyVerified: true } },
      })
      expect(patched.statusCode, patched.body).toBe(200)
      expect((await signIn('bo')).statusCode).toBe(400)
      expect((await signIn('bo@example.com')).statusCode).toBe(403)
    })

    test('identityFields follow a renamed field; a dropped field or index is a 400', async () => {
      const created = await createCollection(t, {
        ...membersDefinition,
        options: { identityFields: ['email', 'username'] },
      })
      const own = created.fields.filter((f: { system?: boolean }) => !f.system)
      const renamed = await t.request({
        method: 'PATCH',
        url: '/api/collections/members',
        payload: {
          fields: own.map((f: { name: string }) => (f.name === 'username' ? { ...f, name: 'login' } : f)),
        },
      })
      expect(renamed.statusCode, renamed.body).toBe(200)
      expect(renamed.json().options.identityFields).toEqual(['email', 'login'])
      expect(renamed.json().indexes.map((i: { fields: string[] }) => i.fields)).toContainEqual(['login'])

      const current = renamed.json()
      const dropField = await t.request({
        method: 'PATCH',
        url: '/api/collections/members',
        payload: {
          fields: current.fields.filter(
            (f: { name: string; system?: boolean }) => !f.system && f.name !== 'login',
          ),
        },
      })
      expect(dropField.statusCode).toBe(400)
      expect(dropField.json().errors['options.identityFields.1'].code).toBe('invalid_value')
      const dropIndex = await t.request({
        method: 'PATCH',
        url: '/api/collections/members',
        payload: { indexes: [{ fields: ['badge'], unique: true }] },
      })
      expect(dropIndex.statusCode).toBe(400)
      expect(dropIndex.json().errors['options.identityFields.1'].code).toBe('invalid_value')
      expect((await t.request({ method: 'GET', url: '/api/collections/members' })).json()).toEqual(current)
    })
  })
})
