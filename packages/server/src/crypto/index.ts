export { newId, randomTag } from './ids.js'
export { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from './passwords.js'
export { loadInstanceSecret, SecretBox, secretFile } from './secret-box.js'
export { constantTimeEqual, randomToken, sha256 } from './tokens.js'
