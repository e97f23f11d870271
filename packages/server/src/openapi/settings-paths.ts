import { mailKinds } from '../collections/index.js'
import { type JsonSchema, ref } from './document-context.js'
import { ok, operation, SUPERUSERS_ONLY } from './operations.js'
import { signedIn } from './security-schemes.js'

export const SETTINGS_TAG = 'Settings'

/** Operation ids of these endpoints; collections must not take them. */
export const settingsOperationIds = ['viewSettings', 'sendTestEmail']

export const settingsSchemas: Record<string, JsonSchema> = {
  TestEmail: {
    type: 'object',
    additionalProperties: false,
    properties: {
      email: { type: 'string', maxLength: 254, description: 'One address.' },
      template: {
        type: 'string',
        enum: [...mailKinds],
        description: 'Send this template, filled with sample values, instead of a plain test mail.',
      },
      collection: {
        type: 'string',
        default: '_superusers',
        description: 'The auth collection whose templates are used.',
      },
    },
    required: ['email'],
  },
}

/** The effective configuration and a test mail, for superusers. */
export function settingsPaths(): Record<string, JsonSchema> {
  const tags = [SETTINGS_TAG]
  return {
    '/api/settings': {
      get: operation('get', 'viewSettings', tags, {
        summary: 'View the configuration in effect',
        description: `${SUPERUSERS_ONLY} It comes from the environment and changes with a restart. Secrets are never sent: each is \`{"isSet": boolean}\`.`,
        security: signedIn('get'),
        responses: { 200: ok('The settings, grouped by concern.', { type: 'object' }) },
        problems: [400, 403],
      }),
    },
    '/api/settings/test/email': {
      post: operation('post', 'sendTestEmail', tags, {
        summary: 'Send a test mail now',
        description: `${SUPERUSERS_ONLY} Through the configured mail server, not the queue, so the answer says whether the server took it.`,
        security: signedIn('post'),
        body: { schema: ref('TestEmail') },
        responses: { 204: { description: 'The mail server took the mail.' } },
        problems: [403, 502],
      }),
    },
  }
}
