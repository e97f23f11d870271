import type { Job } from './types'

/** The states of GET /api/jobs?state=, in the order a job goes through them. */
export const JOB_STATES: readonly Job['state'][] = ['queued', 'running', 'succeeded', 'failed', 'dead']

/** The events of GET /api/audit the server records (docs/security.md). */
export const AUDIT_EVENTS: readonly string[] = [
  'sign_in',
  'sign_in_failed',
  'lockout',
  'refresh_reuse',
  'sign_out',
  'session_revoked',
  'password_changed',
  'api_key_created',
  'api_key_revoked',
  'impersonation',
  'mfa_enabled',
  'mfa_failed',
  'mfa_disabled',
  'recovery_code_used',
  'passkey_added',
  'passkey_removed',
  'oauth2_linked',
  'oauth2_unlinked',
  'verified',
  'password_reset',
  'email_changed',
]
