export const AUTH_MODES = ['none', 'token', 'mtls', 'token+mtls'] as const
export type AuthMode = (typeof AUTH_MODES)[number]

/** What a client must show: the API token, a client certificate (mTLS), both or neither. */
export function authMode(token: string | null, mtls: boolean): AuthMode {
  if (token === null) return mtls ? 'mtls' : 'none'
  return mtls ? 'token+mtls' : 'token'
}
