// The bearer rules behind /mcp: header parsing and challenge (RFC 6750 §2.1, §3), the grant check cache
// (DESIGN decision 7) and the verified-token cache, with a fake clock and the real store.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { AccessTokenVerifier, issueAccessToken } from '../../src/oauth/access-tokens.ts'
import { InvalidTokenError, TemporarilyUnavailableError } from '../../src/oauth/errors.ts'
import type { GrantRecord } from '../../src/ports/records.ts'
import { StoreUnavailableError } from '../../src/ports/store.ts'
import { GatehouseBearer, GrantCheck, bearerToken, wwwAuthenticate } from '../../src/mcp/bearer.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

t.test('RFC 6750 §2.1: bearerToken reads the Bearer scheme case-insensitively and nothing else', async t => {
  t.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  t.equal(bearerToken('bearer abc'), 'abc')
  t.equal(bearerToken('Basic abc'), undefined)
  t.equal(bearerToken(undefined), undefined)
  t.equal(bearerToken('Bearer '), '')
})

t.test('RFC 6750 §3 + RFC 9728 §5.1: the challenge lists error, description, scope and resource_metadata', async t => {
  t.equal(wwwAuthenticate({ resourceMetadata: 'https://x/.well-known/oauth-protected-resource/mcp' }), 'Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp"')
  t.equal(wwwAuthenticate({ resourceMetadata: 'm', error: 'insufficient_scope', scope: 'mcp:write', description: 'needs "write"' }),
    'Bearer error="insufficient_scope", error_description="needs write", scope="mcp:write", resource_metadata="m"', 'quotes cannot break the header')
})

async function grantFixture (t: Test) {
  const clock = createFakeClock()
  const { store } = await startTestStore(t, { clock })
  let reads = 0
  let failing = false
  const counting = {
    findGrant: async (id: string) => {
      reads++
      if (failing) throw new StoreUnavailableError('down')
      return await store.findGrant(id)
    }
  }
  const save = async (overrides: Partial<GrantRecord> = {}) => {
    const grant: GrantRecord = { grantId: randomUUID(), clientId: 'c1', identity: { sub: 'u1', groups: [] }, scope: ['mcp:read'], resource: 'r', createdAt: clock.now(), expiresAt: clock.now() + 3600, ...overrides }
    await store.saveGrant(grant)
    return { gid: grant.grantId, sub: 'u1', client_id: 'c1' }
  }
  return { clock, store, counting, save, reads: () => reads, fail: (on: boolean) => { failing = on } }
}

t.test('GrantCheck caches verdicts for ttlSeconds, then asks the store again', async t => {
  const f = await grantFixture(t)
  const check = new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 30 })
  const claims = await f.save()
  await check.check(claims)
  t.equal(check.check(claims), undefined, 'a cached verdict answers synchronously')
  t.equal(f.reads(), 1)
  f.clock.advance(31)
  await check.check(claims)
  t.equal(f.reads(), 2)
})

t.test('GrantCheck: concurrent misses share one read; TTL 0 reads every time', async t => {
  const f = await grantFixture(t)
  const claims = await f.save()
  const cached = new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 30 })
  await Promise.all(Array.from({ length: 10 }, () => cached.check(claims)))
  t.equal(f.reads(), 1)
  const uncached = new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 0 })
  await Promise.all(Array.from({ length: 5 }, () => uncached.check(claims)))
  t.equal(f.reads(), 6)
  t.equal(uncached.size, 0, 'nothing is kept with TTL 0')
})

t.test('GrantCheck is bounded in size', async t => {
  const f = await grantFixture(t)
  const check = new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 30, maxEntries: 2 })
  for (let i = 0; i < 5; i++) await check.check(await f.save())
  t.equal(check.size, 2)
})

t.test('GrantCheck: revoked, expired, absent or mismatched grants are invalid_token; a store failure is 503 and not cached', async t => {
  const f = await grantFixture(t)
  const check = new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 30 })
  await t.rejects(async () => await check.check(await f.save({ revokedAt: f.clock.now() })), InvalidTokenError)
  await t.rejects(async () => await check.check({ gid: 'missing', sub: 'u1', client_id: 'c1' }), InvalidTokenError)
  await t.rejects(async () => await check.check({ ...(await f.save()), client_id: 'other' }), InvalidTokenError)
  const short = await f.save({ expiresAt: f.clock.now() + 10 })
  await check.check(short)
  f.clock.advance(11)
  t.throws(() => check.check(short), InvalidTokenError, 'expiry is judged at use, even from the cache')
  const claims = await f.save()
  f.fail(true)
  await t.rejects(async () => await check.check(claims), TemporarilyUnavailableError)
  f.fail(false)
  await check.check(claims)
  t.pass('recovers on the next request')
})

t.test('GatehouseBearer verifies a token\'s signature once, but re-checks expiry and key trust on every use', async t => {
  const f = await grantFixture(t)
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bearer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const keys = await LocalKeySet.open({ dataDir: dir, clock: f.clock })
  const real = new AccessTokenVerifier({ issuer: 'https://gh', audience: 'https://gh/mcp', clock: f.clock, skewSeconds: 0 }, await keys.publicKeys())
  let verifications = 0
  let trusted = true
  const verifier = { verify: (token: string) => { verifications++; return real.verify(token) }, hasKey: (kid: string) => trusted && real.hasKey(kid) }
  const bearer = new GatehouseBearer({ verifier, grants: new GrantCheck({ store: f.counting, clock: f.clock, ttlSeconds: 30 }), clock: f.clock, skewSeconds: 0 })
  const claims = await f.save()
  const { token } = await issueAccessToken({ grantId: claims.gid, clientId: 'c1', identity: { sub: 'u1', groups: ['g'] } }, ['mcp:read'], { keys, clock: f.clock, issuer: 'https://gh', audience: 'https://gh/mcp', ttlSeconds: 60 })
  const caller = await bearer.authenticate(token)
  t.match(caller, { sub: 'u1', groups: ['g'], scopes: ['mcp:read'], clientId: 'c1', grantId: claims.gid })
  t.ok(Object.isFrozen(caller) && Object.isFrozen(caller.groups), 'shared callers cannot be changed by a tool')
  for (let i = 0; i < 5; i++) await bearer.authenticate(token)
  t.equal(verifications, 1)
  trusted = false
  t.throws(() => bearer.authenticate(token), InvalidTokenError, 'a retired key stops cached tokens too')
  trusted = true
  await bearer.authenticate(token)
  f.clock.advance(61)
  t.throws(() => bearer.authenticate(token), InvalidTokenError, 'expired')
})
