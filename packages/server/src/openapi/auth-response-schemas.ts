import { auditEvents } from '../auth/index.js'
import { type JsonSchema, ref } from './document-context.js'
import { dateTime } from './operations.js'

const nullable = (type: string, extra: JsonSchema = {}) => ({ type: [type, 'null'], ...extra })

/** A page of a list the server answers whole: page 1 holding every item. */
export function wholeList(item: string, description: string): JsonSchema {
  return {
    type: 'object',
    description,
    properties: {
      items: { type: 'array', items: ref(item) },
      page: { type: 'integer', const: 1 },
      perPage: { type: 'integer', minimum: 0 },
      totalItems: { type: 'integer', minimum: 0 },
      totalPages: { type: 'integer', const: 1 },
    },
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
  }
}

function enabled(extra: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    properties: { enabled: { type: 'boolean' }, ...extra },
    required: ['enabled', ...Object.keys(extra)],
  }
}

/** WebAuthn options are built by the browser API's rules; only the parts a client must pass on are named. */
function webAuthnOptions(description: string, credentials: string): JsonSchema {
  return {
    type: 'object',
    description,
    properties: {
      challenge: { type: 'string', description: 'base64url; single use, valid for 5 minutes.' },
      [credentials]: { type: 'array', items: { type: 'object' } },
    },
    required: ['challenge'],
  }
}

/** What the auth endpoints answer, by component name. */
/** A session as its record and superusers see it. */
const sessionProperties = {
  id: { type: 'string', format: 'uuid' },
  created: dateTime,
  lastUsed: dateTime,
  expires: dateTime,
  userAgent: nullable('string'),
  ip: nullable('string'),
  impersonated: { type: 'boolean', description: 'Opened by a superuser acting as the record.' },
}

export const authResponseSchemas: Record<string, JsonSchema> = {
  AuthRecord: {
    type: 'object',
    description: 'A signed-in auth record as its owner sees it.',
    properties: {
      id: { type: 'string', format: 'uuid' },
      created: dateTime,
      updated: dateTime,
      email: { type: 'string', format: 'email' },
      emailVisibility: { type: 'boolean' },
      verified: { type: 'boolean' },
      collectionId: { type: 'string' },
      collectionName: { type: 'string' },
    },
    required: ['id', 'created', 'updated', 'collectionId', 'collectionName'],
  },
  MfaChallenge: {
    type: 'object',
    description:
      'The record has a second factor: no tokens yet. Answer the challenge at auth-with-mfa within 5 minutes.',
    properties: { mfaId: { type: 'string' } },
    required: ['mfaId'],
  },
  AuthMethods: {
    type: 'object',
    description: 'How records of the collection can sign in, for building a sign-in page.',
    properties: {
      password: enabled({ identityFields: { type: 'array', items: { type: 'string' } } }),
      oauth2: enabled({
        providers: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, displayName: { type: 'string' } },
            required: ['name', 'displayName'],
          },
        },
      }),
      otp: enabled(),
      mfa: enabled({
        required: { type: 'boolean', description: 'Whether every record must enrol a second factor.' },
      }),
      passkey: enabled(),
    },
    required: ['password', 'oauth2', 'otp', 'mfa', 'passkey'],
  },
  OtpRequested: {
    type: 'object',
    description:
      'Answered whether or not the address belongs to a record, so nothing is revealed; a code is mailed only if it does.',
    properties: { otpId: { type: 'string' } },
    required: ['otpId'],
  },
  OAuth2Redirect: {
    type: 'object',
    properties: {
      provider: { type: 'string' },
      authURL: { type: 'string', format: 'uri', description: 'Send the user here.' },
      state: { type: 'string', description: 'Comes back with the code; valid for 10 minutes, once.' },
    },
    required: ['provider', 'authURL', 'state'],
  },
  OAuth2Profile: {
    type: 'object',
    description: 'What the provider said about the user.',
    properties: {
      provider: { type: 'string' },
      id: { type: 'string', description: "The user's id at the provider." },
      email: nullable('string'),
      emailVerified: { type: 'boolean' },
      name: nullable('string'),
      avatarURL: nullable('string'),
      isNew: { type: 'boolean', description: 'Whether this sign-in created the record.' },
    },
    required: ['provider', 'id', 'email', 'emailVerified', 'name', 'avatarURL', 'isNew'],
  },
  ExternalAuth: {
    type: 'object',
    description: 'A provider account linked to a record.',
    properties: {
      id: { type: 'string', format: 'uuid' },
      provider: { type: 'string' },
      providerUserId: { type: 'string' },
      recordId: { type: 'string', format: 'uuid' },
      created: dateTime,
    },
    required: ['id', 'provider', 'providerUserId', 'recordId', 'created'],
  },
  ExternalAuthList: wholeList('ExternalAuth', 'The provider accounts linked to the record.'),
  OAuth2Link: {
    type: 'object',
    description: 'A signed-in caller linked the provider account to its own record.',
    properties: { externalAuth: ref('ExternalAuth'), meta: ref('OAuth2Profile') },
    required: ['externalAuth', 'meta'],
  },
  OAuth2ProviderSettings: {
    type: 'object',
    description: 'The OAuth2 settings of a collection. Client secrets are never returned.',
    properties: {
      enabled: { type: 'boolean' },
      providers: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            clientId: { type: 'string' },
            clientSecretSet: { type: 'boolean' },
            issuer: nullable('string'),
            displayName: nullable('string'),
            scopes: nullable('array', { items: { type: 'string' } }),
            redirectURLs: { type: 'array', items: { type: 'string' } },
          },
          required: [
            'name',
            'clientId',
            'clientSecretSet',
            'issuer',
            'displayName',
            'scopes',
            'redirectURLs',
          ],
        },
      },
      updated: nullable('string', { format: 'date-time', description: 'null until first saved.' }),
      known: {
        type: 'array',
        description:
          'Every provider name a write accepts, with its defaults; `oidc` also stands for `oidc-<label>`.',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            displayName: { type: 'string' },
            kind: { type: 'string', enum: ['oidc', 'oauth2'] },
            issuer: nullable('string', { description: 'The default issuer; null where one must be set.' }),
            isIssuerConfigurable: { type: 'boolean' },
            scopes: { type: 'array', items: { type: 'string' } },
          },
          required: ['name', 'displayName', 'kind', 'issuer', 'isIssuerConfigurable', 'scopes'],
        },
      },
    },
    required: ['enabled', 'providers', 'updated', 'known'],
  },
  MfaStatus: {
    type: 'object',
    properties: {
      required: { type: 'boolean', description: 'Whether sign-in asks this record for a second factor.' },
      enrollmentRequired: {
        type: 'boolean',
        description: 'The collection requires a factor and the record has none yet.',
      },
      totp: { type: 'boolean' },
      recoveryCodesLeft: { type: 'integer', minimum: 0 },
      passkeys: { type: 'integer', minimum: 0 },
    },
    required: ['required', 'enrollmentRequired', 'totp', 'recoveryCodesLeft', 'passkeys'],
  },
  TotpSetup: {
    type: 'object',
    description: 'A pending enrolment: show otpauthURL as a QR code, then confirm with a code.',
    properties: { secret: { type: 'string' }, otpauthURL: { type: 'string', format: 'uri' } },
    required: ['secret', 'otpauthURL'],
  },
  RecoveryCodes: {
    type: 'object',
    description: 'Shown this once; each works once in place of a TOTP code.',
    properties: { recoveryCodes: { type: 'array', items: { type: 'string' } } },
    required: ['recoveryCodes'],
  },
  Passkey: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      transports: { type: 'array', items: { type: 'string' } },
      created: dateTime,
      lastUsed: nullable('string', { format: 'date-time' }),
    },
    required: ['id', 'name', 'transports', 'created', 'lastUsed'],
  },
  PasskeyList: wholeList('Passkey', "The record's passkeys."),
  PasskeyCreationOptions: webAuthnOptions(
    'PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create().',
    'excludeCredentials',
  ),
  PasskeyRequestOptions: webAuthnOptions(
    'PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get().',
    'allowCredentials',
  ),
  Session: {
    type: 'object',
    properties: {
      ...sessionProperties,
      current: { type: 'boolean', description: 'The session of this request.' },
    },
    required: [...Object.keys(sessionProperties), 'current'],
  },
  SessionList: wholeList('Session', "The caller's open sessions."),
  RecordSession: {
    type: 'object',
    properties: {
      ...sessionProperties,
      impersonatedBy: { ...nullable('string'), description: 'The id of that superuser.' },
    },
    required: [...Object.keys(sessionProperties), 'impersonatedBy'],
  },
  RecordSessionList: wholeList('RecordSession', "The record's open sessions."),
  ApiKey: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      prefix: { type: 'string', description: 'The start of the key, to recognise it.' },
      scopes: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            collection: { type: 'string' },
            operations: { type: 'array', items: { type: 'string' } },
          },
          required: ['collection', 'operations'],
        },
      },
      expires: dateTime,
      created: dateTime,
      lastUsed: nullable('string', { format: 'date-time' }),
    },
    required: ['id', 'name', 'prefix', 'scopes', 'expires', 'created', 'lastUsed'],
  },
  ApiKeyCreated: {
    allOf: [ref('ApiKey')],
    type: 'object',
    properties: {
      key: {
        type: 'string',
        description: 'The key itself (`plk_…`), for `Authorization: Bearer …`. Shown this once.',
      },
    },
    required: ['key'],
  },
  ApiKeyList: wholeList('ApiKey', "The caller's keys that are not revoked, expired ones included."),
  AuditEntry: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      at: dateTime,
      event: { type: 'string', enum: [...auditEvents] },
      collectionId: nullable('string'),
      recordId: nullable('string'),
      actor: nullable('string', { description: 'Who acted, when not the record itself.' }),
      ip: nullable('string'),
      detail: { type: 'object' },
    },
    required: ['id', 'at', 'event', 'collectionId', 'recordId', 'actor', 'ip', 'detail'],
  },
  AuditLogPage: {
    type: 'object',
    description: 'One page of security events, newest first.',
    properties: {
      items: { type: 'array', items: ref('AuditEntry') },
      page: { type: 'integer', minimum: 1 },
      perPage: { type: 'integer', minimum: 1 },
      totalItems: { type: 'integer', minimum: 0 },
      totalPages: { type: 'integer', minimum: 0 },
      events: {
        type: 'array',
        items: { type: 'string', enum: [...auditEvents] },
        description: 'Every kind of event the log records: the values `event` filters by.',
      },
    },
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages', 'events'],
  },
  Jwks: {
    type: 'object',
    description: 'RFC 7517 JSON Web Key Set: the public keys access tokens are signed with.',
    properties: {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kty: { type: 'string', const: 'OKP' },
            crv: { type: 'string', const: 'Ed25519' },
            x: { type: 'string' },
            kid: { type: 'string' },
            alg: { type: 'string', const: 'EdDSA' },
            use: { type: 'string', const: 'sig' },
          },
          required: ['kty', 'crv', 'x', 'kid', 'alg', 'use'],
        },
      },
    },
    required: ['keys'],
  },
}
