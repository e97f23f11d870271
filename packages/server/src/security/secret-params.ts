/** Query parameters whose values are credentials: they never reach a log. */
const secretParams =
  /^(token|password|passwordconfirm|code|otp|secret|refreshtoken|key|apikey|api_key|access_token)$/i

/** Whether a query parameter carries a credential (a file token, a one-time code, …). */
export function isSecretParam(name: string): boolean {
  return secretParams.test(name)
}
