// Records with every optional field set ("full") and with none ("minimal"), so round-trips prove both.
import { randomUUID } from 'node:crypto'
import type { DatasetRecord } from '../../src/ports/dataset.ts'
import type { AuthorizationCodeRecord, AuthorizationTransaction, ClientRecord, ConsentRecord, GrantRecord, GrantRefreshToken, RefreshTokenRecord } from '../../src/ports/records.ts'
import type { CodeRedemption, RefreshRotation } from '../../src/ports/store.ts'

export const T0 = 1_750_000_000

export const id = (prefix: string): string => `${prefix}-${randomUUID()}`

export function fullClient (overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: id('client'),
    clientSecretHash: 'a'.repeat(64),
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: ['https://app.example/cb', 'http://127.0.0.1/cb'],
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    clientName: 'Example App',
    clientUri: 'https://app.example',
    logoUri: 'https://app.example/logo.png',
    scope: 'mcp:read mcp:write',
    softwareId: 'example',
    softwareVersion: '1.2.3',
    createdAt: T0,
    expiresAt: 0,
    ...overrides
  }
}

export function minimalClient (overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: id('client'),
    tokenEndpointAuthMethod: 'none',
    redirectUris: [],
    grantTypes: ['authorization_code'],
    responseTypes: ['code'],
    createdAt: T0,
    expiresAt: 0,
    ...overrides
  }
}

export function transaction (overrides: Partial<AuthorizationTransaction> = {}): AuthorizationTransaction {
  return {
    id: id('tx'),
    clientId: 'client-1',
    redirectUri: 'http://127.0.0.1:33418/cb',
    state: 'xyz',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scope: ['mcp:read', 'mcp:write'],
    resource: 'https://gatehouse.example/mcp',
    browserBindingHash: 'b'.repeat(64),
    csrfHash: 'c'.repeat(64),
    createdAt: T0,
    expiresAt: T0 + 600,
    ...overrides
  }
}

export const identity = { sub: 'user-1', email: 'user@example.com', username: 'user1', groups: ['staff', 'admins'] }

export function code (overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    codeHash: id('code'),
    clientId: 'client-1',
    redirectUri: 'https://app.example/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scope: ['mcp:read'],
    resource: 'https://gatehouse.example/mcp',
    identity,
    upstreamSealed: 'sealed-upstream',
    upstreamExpiresAt: T0 + 3600,
    grantId: id('grant'),
    createdAt: T0,
    expiresAt: T0 + 60,
    ...overrides
  }
}

/** A token request that matches `cd` (naming its resource), with `overrides` to make it not. */
export function redemption (cd: AuthorizationCodeRecord, overrides: Partial<CodeRedemption> = {}): CodeRedemption {
  return { clientId: cd.clientId, codeChallenge: cd.codeChallenge, redirectUri: cd.redirectUri, resource: cd.resource, consumedBy: id('redemption'), ...overrides }
}

/** A grant's refresh token as the grant stores it. */
export function grantRefreshToken (overrides: Partial<GrantRefreshToken> = {}): GrantRefreshToken {
  return { tokenHash: id('rt'), scope: ['mcp:read'], createdAt: T0, expiresAt: T0 + 14 * 86400, ...overrides }
}

/** Rotating to a fresh token, retiring `from` (if any). */
export function rotation (from: GrantRefreshToken | undefined, overrides: Partial<RefreshRotation> = {}): RefreshRotation {
  return { next: grantRefreshToken({ createdAt: T0 + 1 }), retired: from === undefined ? [] : [{ tokenHash: from.tokenHash, expiresAt: from.expiresAt }], ...overrides }
}

export function grant (overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    grantId: id('grant'),
    clientId: 'client-1',
    identity,
    scope: ['mcp:read', 'mcp:write'],
    resource: 'https://gatehouse.example/mcp',
    upstreamSealed: 'sealed-upstream',
    upstreamExpiresAt: T0 + 3600,
    createdAt: T0,
    expiresAt: T0 + 90 * 86400,
    ...overrides
  }
}

export function refreshToken (overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    tokenHash: id('rt'),
    grantId: 'grant-1',
    clientId: 'client-1',
    scope: ['mcp:read'],
    createdAt: T0,
    expiresAt: T0 + 14 * 86400,
    ...overrides
  }
}

export function consent (overrides: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    sub: 'user-1',
    clientId: id('client'),
    scope: ['mcp:read'],
    createdAt: T0,
    expiresAt: T0 + 30 * 86400,
    ...overrides
  }
}

export function datasetRecord (overrides: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    id: id('row'),
    visibleTo: ['staff'],
    title: 'Quarterly revenue',
    category: 'finance',
    value: 1234.5,
    createdBy: 'user-1',
    createdAt: T0,
    ...overrides
  }
}
