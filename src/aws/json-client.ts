// A client for AWS services that speak the JSON protocol (DynamoDB's 1.0, KMS's and Secrets Manager's 1.1):
// one signed POST per operation over node:http(s), with what the SDK's clients gave the adapters — a time
// limit per attempt, retries with jittered exponential backoff on throttling, 5xx and dropped connections,
// errors named by the service's error type (ConditionalCheckFailedException, InvalidCiphertextException, …)
// with the HTTP status in `$metadata` — and nothing else. The Lambda uses it so that a cold start loads no
// AWS SDK client (≈ 90 ms for DynamoDB's, BENCHMARKS.md session 9); local runs and the CLI keep the SDK,
// whose credential chain (profiles, SSO) they need. Credentials and signatures never appear in an error.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { signPost, type AwsCredentials } from './sigv4.ts'
import { abortableSleep } from '../abortable-sleep.ts'

export interface AwsJsonService {
  /** The endpoint prefix and signing name: dynamodb, kms, secretsmanager. */
  name: string
  /** X-Amz-Target is `<targetPrefix>.<Operation>`. */
  targetPrefix: string
  jsonVersion: '1.0' | '1.1'
  /** Top-level members that are blobs: base64 on the wire, Uint8Array for callers (as the SDK gives them). */
  blobs?: readonly string[]
}

export const DYNAMODB: AwsJsonService = { name: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0' }
export const KMS: AwsJsonService = { name: 'kms', targetPrefix: 'TrentService', jsonVersion: '1.1', blobs: ['Message', 'Signature', 'CiphertextBlob', 'Plaintext', 'PublicKey'] }
export const SECRETS_MANAGER: AwsJsonService = { name: 'secretsmanager', targetPrefix: 'secretsmanager', jsonVersion: '1.1' }

export interface AwsJsonClientOptions {
  region: string
  /** Default: the region's public endpoint (aws and aws-cn partitions). */
  endpoint?: string | undefined
  credentials: AwsCredentials
  /** Bound on each attempt, from connecting to the last byte of the answer. */
  attemptTimeoutMs: number
  /** Attempts in all (the SDK's default is 3; the store passes 2 so a retry fits its deadline). */
  maxAttempts: number
  /** Injected by tests. */
  random?: () => number
  now?: () => Date
}

/** A failure the service answered with (or the network gave), named as the SDK names it. */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode?: number | undefined, attempts: number }
  readonly $retryable: boolean

  constructor (name: string, message: string, status: number | undefined, attempts: number, retryable: boolean, options?: ErrorOptions) {
    super(message, options)
    this.name = name
    this.$metadata = { httpStatusCode: status, attempts }
    this.$retryable = retryable
  }
}

// The SDK's standard retry strategy: these error types, any 5xx and 429, and transient network errors.
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'TransactionInProgressException', 'RequestLimitExceeded', 'BandwidthLimitExceeded', 'LimitExceededException',
  'RequestThrottled', 'SlowDown', 'PriorRequestNotComplete', 'EC2ThrottledException'])
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])
const BASE_DELAY_MS = 100
const THROTTLING_BASE_DELAY_MS = 500
const MAX_DELAY_MS = 20_000
/** Answers are JSON of at most a Query page (1 MB); anything far larger is not an AWS answer. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

export function defaultEndpoint (service: AwsJsonService, region: string): string {
  return `https://${service.name}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`
}

export class AwsJsonClient {
  readonly #service: AwsJsonService
  readonly #options: AwsJsonClientOptions
  readonly #url: URL
  readonly #agent: HttpAgent | HttpsAgent

  constructor (service: AwsJsonService, options: AwsJsonClientOptions) {
    this.#service = service
    this.#options = options
    this.#url = new URL(options.endpoint ?? defaultEndpoint(service, options.region))
    if (this.#url.protocol !== 'https:' && this.#url.protocol !== 'http:') throw new TypeError(`not an http(s) endpoint: ${this.#url.origin}`)
    // Kept-alive connections, as the SDK's handler: a warm function reuses its TLS session.
    this.#agent = this.#url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })
  }

  /** One operation; the output as the service defines it, blobs as Uint8Array. */
  async send<O = Record<string, unknown>> (operation: string, input: object, options: { abortSignal?: AbortSignal | undefined } = {}): Promise<O> {
    const wire: Record<string, unknown> = { ...input }
    for (const name of this.#service.blobs ?? []) {
      const value = wire[name]
      if (value instanceof Uint8Array) wire[name] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
    }
    const body = JSON.stringify(wire)
    const signal = options.abortSignal
    for (let attempt = 1; ; attempt++) {
      let failure: AwsServiceError
      try {
        const { status, text } = await this.#post(operation, body, signal)
        if (status >= 200 && status < 300) return this.#decode(text) as O
        failure = this.#errorOf(status, text, attempt)
      } catch (err) {
        if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : new AwsServiceError('AbortError', 'the request was aborted', undefined, attempt, false, { cause: err })
        const code = (err as { code?: string }).code
        const timedOut = err instanceof AttemptTimeout
        const retryable = timedOut || (code !== undefined && NETWORK.has(code))
        failure = new AwsServiceError(timedOut ? 'TimeoutError' : (code ?? 'NetworkingError'), `${this.#service.name} ${operation}: ${timedOut ? `no answer within ${this.#options.attemptTimeoutMs} ms` : (err as Error).message}`, undefined, attempt, retryable, { cause: err })
      }
      if (!failure.$retryable || attempt >= this.#options.maxAttempts) throw failure
      const base = THROTTLING.has(failure.name) ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS
      // Full jitter, as the SDK: a random delay up to base·2^(attempt-1), capped.
      await abortableSleep((this.#options.random ?? Math.random)() * Math.min(MAX_DELAY_MS, base * 2 ** (attempt - 1)), signal)
    }
  }

  /** Closes the kept-alive connections. */
  destroy (): void {
    this.#agent.destroy()
  }

  #post (operation: string, body: string, signal: AbortSignal | undefined): Promise<{ status: number, text: string }> {
    const headers = signPost({
      host: this.#url.host,
      headers: { 'content-type': `application/x-amz-json-${this.#service.jsonVersion}`, 'x-amz-target': `${this.#service.targetPrefix}.${operation}` },
      body
    }, this.#options.credentials, this.#options.region, this.#service.name, (this.#options.now ?? (() => new Date()))())
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const request = send({
        protocol: this.#url.protocol,
        hostname: this.#url.hostname,
        port: this.#url.port,
        path: '/',
        method: 'POST',
        agent: this.#agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(signal === undefined ? {} : { signal })
      }, (response: IncomingMessage) => {
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`))
          else chunks.push(chunk)
        })
        response.on('end', () => { clearTimeout(timer); resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }) })
        response.on('error', (err) => { clearTimeout(timer); reject(err) })
      })
      const timer = setTimeout(() => request.destroy(new AttemptTimeout()), this.#options.attemptTimeoutMs)
      request.on('error', (err) => { clearTimeout(timer); reject(err) })
      request.end(body)
    })
  }

  #decode (text: string): Record<string, unknown> {
    const out = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>
    for (const name of this.#service.blobs ?? []) {
      if (typeof out[name] === 'string') out[name] = new Uint8Array(Buffer.from(out[name], 'base64'))
    }
    return out
  }

  #errorOf (status: number, text: string, attempt: number): AwsServiceError {
    let parsed: { __type?: unknown, message?: unknown, Message?: unknown } = {}
    try { parsed = JSON.parse(text) as typeof parsed } catch { /* an answer that is not JSON (a proxy's 502 page) keeps its status */ }
    // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → ConditionalCheckFailedException
    const type = typeof parsed.__type === 'string' ? (parsed.__type.split('#').pop() as string).split(':')[0] as string : ''
    const name = type !== '' ? type : status >= 500 ? 'InternalServerError' : `Http${status}`
    const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : `HTTP ${status}`
    const retryable = status >= 500 || status === 429 || THROTTLING.has(name) || TRANSIENT.has(name)
    return new AwsServiceError(name, message, status, attempt, retryable)
  }
}

class AttemptTimeout extends Error {
  constructor () { super('attempt timed out'); this.name = 'AttemptTimeout' }
}
