export { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js'
export { loadInstanceSecret, SecretBox } from './secret-box.js'
export { constantTimeEqual, randomToken, sha256 } from './tokens.js'
