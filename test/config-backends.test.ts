// GATEHOUSE_BACKENDS: the MCP servers behind the gateway, parsed once with the rest of the configuration.
import t from 'tap'
import { loadConfig } from '../src/config.ts'

const base = { GATEHOUSE_PUBLIC_URL: 'https://gh.example', UPSTREAM_ISSUER: 'https://idp.example' }

t.test('each backend becomes <public URL>/mcp/<name> with its rules and defaults', async t => {
  const config = loadConfig({
    ...base,
    GATEHOUSE_BACKENDS: JSON.stringify({
      everything: { url: 'http://127.0.0.1:4000/mcp/' },
      jira: {
        url: 'https://jira-mcp.internal.example/mcp',
        title: 'JIRA',
        scopes: ['mcp:read'],
        groups: ['engineering'],
        tools: { 'create-*': { scopes: ['mcp:write'], groups: ['admins'] }, '*': { scopes: ['mcp:read'] } },
        timeoutMs: 5000,
        maxResponseBytes: 65536,
        auth: { type: 'secret', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jira-AbCdEf', header: 'X-Api-Key' }
      }
    })
  })
  const [everything, jira] = config.backends
  t.match(everything, { name: 'everything', url: 'http://127.0.0.1:4000/mcp', resource: 'https://gh.example/mcp/everything', title: 'everything', scopes: [], groups: undefined, tools: {}, timeoutMs: 15000, maxResponseBytes: 4 * 1024 * 1024, auth: { type: 'jwt' } })
  t.match(jira, { resource: 'https://gh.example/mcp/jira', title: 'JIRA', scopes: ['mcp:read'], groups: ['engineering'], timeoutMs: 5000, maxResponseBytes: 65536, auth: { type: 'secret', header: 'x-api-key' } })
  t.same(jira?.tools, { 'create-*': { scopes: ['mcp:write'], groups: ['admins'] }, '*': { scopes: ['mcp:read'], groups: undefined } })
  t.same(loadConfig(base).backends, [], 'unset: no backends')
  const direct = loadConfig({ ...base, GATEHOUSE_BACKENDS: '{"team":{"url":"https://team.example/mcp","mode":"direct"}}' }).backends[0]
  t.match(direct, { direct: true, resource: 'https://team.example/mcp' }, 'a direct server is its own resource')
  t.equal(everything?.direct, false)
})

t.test('bad backends fail at start, naming GATEHOUSE_BACKENDS and what is wrong', async t => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{nope', /GATEHOUSE_BACKENDS: must be a JSON object/],
    ['a name with capitals', { Jira: { url: 'https://x.example/mcp' } }, /GATEHOUSE_BACKENDS/],
    ['a name too long', { ['a'.repeat(32)]: { url: 'https://x.example/mcp' } }, /GATEHOUSE_BACKENDS/],
    ['no url', { jira: {} }, /GATEHOUSE_BACKENDS.*url/],
    ['an unknown field', { jira: { url: 'https://x.example/mcp', passthrough: true } }, /GATEHOUSE_BACKENDS/],
    ['plain http off loopback', { jira: { url: 'http://jira.example/mcp' } }, /jira\.url must be https/],
    ['gatehouse itself', { loop: { url: 'https://gh.example/mcp/other' } }, /must not be one of gatehouse's own resources/],
    ['an unknown scope', { jira: { url: 'https://x.example/mcp', tools: { '*': { scopes: ['admin:all'] } } } }, /names scope "admin:all"/],
    ['a timeout past the Lambda limit', { jira: { url: 'https://x.example/mcp', timeoutMs: 60000 } }, /GATEHOUSE_BACKENDS/],
    ['a secret that is not an ARN', { jira: { url: 'https://x.example/mcp', auth: { type: 'secret', secretArn: 'hunter2' } } }, /GATEHOUSE_BACKENDS/]
  ]
  for (const [name, value, message] of bad) {
    t.throws(() => loadConfig({ ...base, GATEHOUSE_BACKENDS: typeof value === 'string' ? value : JSON.stringify(value) }), { name: 'ConfigError', message }, name)
  }
  t.throws(() => loadConfig({ ...base, GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: 'https://idp.example', GATEHOUSE_BACKENDS: '{"a":{"url":"https://x.example/mcp"}}' }), { message: /only in authorization-server mode/ })
})
