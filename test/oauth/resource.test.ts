// RFC 8707 resource indicators with several protected resources: one resource per token, named or defaulted.
import t from 'tap'
import { resolveResource } from '../../src/oauth/resource.ts'
import { protectedResources } from '../../src/oauth/context.ts'

const MCP = 'https://gh.example/mcp'
const JIRA = 'https://gh.example/mcp/jira'
const RESOURCES = [MCP, JIRA]

t.test('RFC 8707 §2: no resource means the fallback; a named one (trailing slash or not) is chosen', async t => {
  t.equal(resolveResource(undefined, RESOURCES, MCP), MCP)
  t.equal(resolveResource('', RESOURCES, JIRA), JIRA)
  t.equal(resolveResource(JIRA, RESOURCES, MCP), JIRA)
  t.equal(resolveResource(`${JIRA}/`, RESOURCES, MCP), JIRA)
  t.equal(resolveResource([JIRA, JIRA], RESOURCES, MCP), JIRA, 'the same resource twice is still one')
  t.equal(resolveResource([], RESOURCES, MCP), MCP)
})

t.test('RFC 8707 §2: an unknown resource, or two different ones, is invalid_target', async t => {
  t.throws(() => resolveResource('https://evil.example/mcp', RESOURCES, MCP), { code: 'invalid_target' })
  t.throws(() => resolveResource(`${MCP}/other`, RESOURCES, MCP), { code: 'invalid_target' })
  t.throws(() => resolveResource([MCP, JIRA], RESOURCES, MCP), { code: 'invalid_target', description: /one resource/ })
})

t.test('without configured backends the /mcp URL is the only resource', async t => {
  t.same(protectedResources({ resource: MCP }), [MCP])
  t.same(protectedResources({ resource: MCP, resources: RESOURCES }), RESOURCES)
})
