// AWS Signature Version 4 for the requests src/aws/json-client.ts sends: a POST of a JSON body to the path
// `/` with no query string. Only that subset, so the canonical request needs no URI or query encoding.
// Written on node:crypto instead of a signing library by measurement (BENCHMARKS.md, session 9): the SDK's
// own signer (@smithy/signature-v4) costs ≈ 65 ms more to load at a cold start than these 40 lines, and
// aws4 measured the same as them but adds 3 KB gzip, over the bundle's budget. test/aws/sigv4.test.ts checks it against AWS's
// published test suite and against @smithy/signature-v4.
import { createHash, createHmac } from 'node:crypto'

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string | undefined
}

export interface SignedRequest {
  host: string
  /** Lower-case names; host, x-amz-date and x-amz-security-token are added. */
  headers: Record<string, string>
  body: string
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest()

/** `20150830T123600Z`: the ISO 8601 basic form SigV4 uses. */
export function amzDate (date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '')
}

/** The headers to send: the request's own, plus host, x-amz-date, the session token and the Authorization. */
export function signPost (request: SignedRequest, credentials: AwsCredentials, region: string, service: string, now: Date): Record<string, string> {
  const date = amzDate(now)
  const day = date.slice(0, 8)
  const headers: Record<string, string> = { ...request.headers, host: request.host, 'x-amz-date': date }
  if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken
  const names = Object.keys(headers).map(name => name.toLowerCase()).sort()
  const lowered = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
  // Header values are trimmed and inner runs of white space collapsed to one space, as the suite's header-value-trim cases.
  const canonicalHeaders = names.map(name => `${name}:${(lowered[name] as string).trim().replace(/\s+/g, ' ')}\n`).join('')
  const signedHeaders = names.join(';')
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256Hex(request.body)].join('\n')
  const scope = `${day}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service), 'aws4_request')
  const signature = hmac(key, stringToSign).toString('hex')
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` }
}
