// An API Gateway HTTP API (payload format 2.0) event, as the gatehouse function receives it behind
// `$default`: what the code-cache warm-up, the cold-start bench and the bundle's handler test send.

export function httpApiEvent (publicUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string, query?: Record<string, string>): Record<string, unknown> {
  const host = new URL(publicUrl).host
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query === undefined ? '' : new URLSearchParams(query).toString(),
    ...(query === undefined ? {} : { queryStringParameters: query }),
    headers: { host, 'x-forwarded-proto': 'https', ...headers },
    requestContext: { accountId: '123456789012', apiId: host.split('.')[0], domainName: host, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'gatehouse-test' }, requestId: 'r1', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0 },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body })
  }
}
