import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import type { SignIn } from '../sign-in.js'
import { MfaService, type MfaSettings } from './mfa-service.js'

/** The MFA service, asked by every sign-in and cleaned up with the records it protects. */
export function createMfa(
  dialect: Dialect,
  box: SecretBox,
  audit: AuditLog,
  records: RecordService,
  signIn: SignIn,
  settings: MfaSettings,
): MfaService {
  const mfa = new MfaService(dialect, box, audit, settings)
  signIn.addSecondFactor(mfa)
  records.onChange(async (trx, change) => {
    if (change.action === 'delete' && change.collection.type === 'auth')
      await mfa.forget(trx, { collectionId: change.collection.id, recordId: change.record.id as string })
  })
  return mfa
}
