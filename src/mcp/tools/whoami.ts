// whoami: the identity the server acted on for this request — useful to check a login and its scopes.
import * as Type from 'typebox'
import { defineTool, jsonResult } from './types.ts'

export default defineTool({
  name: 'whoami',
  title: 'Who am I',
  description: 'Returns the signed-in user (subject, email, groups), the scopes granted to this client, and the client id.',
  inputSchema: Type.Object({}, { additionalProperties: false }),
  scope: 'mcp:read',
  groups: [],
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (_input, { caller }) => jsonResult({
    sub: caller.sub,
    email: caller.email ?? null,
    groups: caller.groups,
    scopes: caller.scopes,
    client_id: caller.clientId
  })
})
