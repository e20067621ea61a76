// Demo accounts of the development IdP. Fixed UUID subjects, like Cognito's `sub`, so grants and
// logs stay stable across restarts.

export interface DevUser {
  sub: string
  username: string
  password: string
  email: string
  /** Cognito omits `cognito:groups` for a user in no group; so does the development IdP. */
  groups: string[]
}

export const DEMO_USERS: readonly DevUser[] = [
  { sub: '6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01', username: 'alice', password: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'] },
  { sub: '0b9e7d14-8c25-4e3f-b6a2-5d4c3b2a1f02', username: 'bob', password: 'bob', email: 'bob@example.com', groups: [] }
]
