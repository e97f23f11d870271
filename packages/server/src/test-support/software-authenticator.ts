import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

/** The values the tiny CBOR encoder below understands: enough for WebAuthn structures. */
type Cbor = number | string | Uint8Array | Map<number | string, Cbor>

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value])
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value])
  if (value < 0x10000) {
    const out = Buffer.alloc(3)
    out[0] = (major << 5) | 25
    out.writeUInt16BE(value, 1)
    return out
  }
  const out = Buffer.alloc(5)
  out[0] = (major << 5) | 26
  out.writeUInt32BE(value, 1)
  return out
}

/** RFC 8949 encoding of integers, byte and text strings and maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value)
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([head(3, bytes.length), bytes])
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value])
  const parts = [head(5, value.size)]
  for (const [key, item] of value) parts.push(cbor(key), cbor(item))
  return Buffer.concat(parts)
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest()
const b64url = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url')

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_AT = 0x40

interface Credential {
  id: Buffer
  privateKey: KeyObject
  publicKey: KeyObject
  userHandle: string
  counter: number
}

export interface CeremonyOverrides {
  /** The page origin the browser reports. */
  origin?: string
  /** The signature counter to report instead of the next one. */
  counter?: number
  /** Flip a bit of the signature. */
  tamperSignature?: boolean
  /** Leave out user verification (no PIN or biometrics). */
  withoutUserVerification?: boolean
}

/**
 * A passkey authenticator in software, as a browser and a security key would answer:
 * ES256 (P-256) keys, "none" attestation, and a signature counter.
 */
export class SoftwareAuthenticator {
  readonly credentials: Credential[] = []

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {}

  private authenticatorData(flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4)
    count.writeUInt32BE(counter)
    return Buffer.concat([sha256(this.rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])])
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }))
  }

  /** `navigator.credentials.create()`: a new key pair and its registration response. */
  create(options: { challenge: string; user: { id: string } }, overrides: CeremonyOverrides = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' })
    const coseKey = cbor(
      new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    )
    const id = randomBytes(32)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, coseKey])
    const authData = this.authenticatorData(FLAG_UP | FLAG_UV | FLAG_AT, 0, attested)
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    )
    const credential = { id, privateKey, publicKey, userHandle: options.user.id, counter: 0 }
    this.credentials.push(credential)
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(
          this.clientData('webauthn.create', options.challenge, overrides.origin ?? this.origin),
        ),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }

  /** `navigator.credentials.get()`: an assertion signed by a credential (the last one made). */
  get(
    options: { challenge: string },
    overrides: CeremonyOverrides = {},
    credential = this.credentials.at(-1)!,
  ) {
    credential.counter = overrides.counter ?? credential.counter + 1
    const flags = overrides.withoutUserVerification ? FLAG_UP : FLAG_UP | FLAG_UV
    const authData = this.authenticatorData(flags, credential.counter)
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, overrides.origin ?? this.origin)
    // WebAuthn ES256 signatures are DER-encoded ECDSA, which is node's default.
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey)
    if (overrides.tamperSignature)
      signature.writeUInt8(signature.readUInt8(signature.length - 1) ^ 0x01, signature.length - 1)
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }
}
