import { describe, expect, test } from 'vitest'
import { ConfigError, loadConfig } from '../../config/index.js'

describe('the passkey relying party in the configuration', () => {
  test('defaults to the public URL', () => {
    const config = loadConfig({ PLINTH_PUBLIC_URL: 'https://app.example.com/' })
    expect(config.webauthn).toEqual({ rpId: 'app.example.com', origins: ['https://app.example.com'] })
  })

  test('an RP ID may cover subdomains that are listed as origins', () => {
    const config = loadConfig({
      PLINTH_PUBLIC_URL: 'https://api.example.com',
      PLINTH_WEBAUTHN_RP_ID: 'Example.com',
      PLINTH_WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com:8443',
    })
    expect(config.webauthn).toEqual({
      rpId: 'example.com',
      origins: ['https://example.com', 'https://app.example.com:8443'],
    })
  })

  test.each([
    [{ PLINTH_WEBAUTHN_RP_ID: 'exa mple.com' }, 'PLINTH_WEBAUTHN_RP_ID'],
    [{ PLINTH_WEBAUTHN_ORIGINS: 'https://app.example.com/path' }, 'PLINTH_WEBAUTHN_ORIGINS'],
    [{ PLINTH_WEBAUTHN_ORIGINS: 'ftp://app.example.com' }, 'PLINTH_WEBAUTHN_ORIGINS'],
    [{ PLINTH_WEBAUTHN_ORIGINS: 'https://evil.net' }, 'PLINTH_WEBAUTHN_ORIGINS'],
    [{ PLINTH_WEBAUTHN_ORIGINS: 'https://notexample.com' }, 'PLINTH_WEBAUTHN_ORIGINS'],
  ])('%o stops start-up naming %s', (env, key) => {
    const load = () => loadConfig({ PLINTH_PUBLIC_URL: 'https://example.com', ...env })
    expect(load).toThrow(ConfigError)
    expect(load).toThrow(key)
  })
})
