// A loopback HTTP proxy in front of the AWS emulator (aws-emulator.ts), for the two things the emulator
// cannot do for a test:
// - report what reached it: requests per operation (from X-Amz-Target, e.g. TrentService.Decrypt →
//   `Decrypt`) and each request's JSON body, so cache tests can count KMS calls and tests can see what
//   gatehouse sent (a 32-byte DIGEST, the KeyId a Decrypt is pinned to);
// - produce the faults AWS produces and moto does not: throttling (ThrottlingException), an internal
//   failure (KMSInternalException, 500), a disabled key (moto 5.2.1 keeps serving Sign, GenerateDataKey and
//   Decrypt for a key after DisableKey), and the error codes where moto answers differently from AWS
//   (IncorrectKeyException: moto says AccessDeniedException). An injected fault is answered here, in the
//   service's JSON error shape, and never reaches the emulator, unless it is `afterApplying`: then the request
//   is applied by the emulator and only its answer is replaced by the fault (a 500 after a committed write,
//   which the SDK retries); every other request is passed on unchanged.
// The SDK signs the proxy's Host; the emulator checks that requests are signed, not the signature.
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface AwsFault {
  /** The AWS error code, sent as `__type` (the SDK's error name). */
  type: string
  /** HTTP status: 400 by default (AWS JSON protocols answer client-side and throttling errors with 400). */
  status?: number
  message?: string
  /** Pass the request on (the emulator applies it) and answer the fault instead of its answer. */
  afterApplying?: boolean
}

export interface ProxiedRequest {
  /** The operation name from X-Amz-Target (after the service prefix). */
  operation: string
  body: Record<string, unknown>
  /** The fault answered instead of passing the request on, if any. */
  fault?: string
}

export interface AwsProxy {
  /** http://127.0.0.1:<port>: give it to an SDK client as its endpoint. */
  endpoint: string
  /** Requests per operation name, including those answered with an injected fault. */
  readonly calls: Record<string, number>
  readonly requests: readonly ProxiedRequest[]
  /** Answers the next `times` requests for `operation` with `fault` instead of passing them on. */
  fail (operation: string, fault: AwsFault, times?: number): void
  close (): Promise<void>
}

export async function startAwsProxy (target: string): Promise<AwsProxy> {
  const upstream = new URL(target)
  const calls: Record<string, number> = {}
  const requests: ProxiedRequest[] = []
  const faults = new Map<string, AwsFault[]>()

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? ''
      calls[operation] = (calls[operation] ?? 0) + 1
      let parsed: Record<string, unknown> = {}
      try { parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8')) as Record<string, unknown> } catch { /* not JSON: passed on as is */ }
      const fault = faults.get(operation)?.shift()
      requests.push({ operation, body: parsed, ...(fault === undefined ? {} : { fault: fault.type }) })
      const answerFault = (): void => {
        if (fault === undefined) return
        res.writeHead(fault.status ?? 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `injected-${requests.length}` })
        res.end(JSON.stringify({ __type: fault.type, message: fault.message ?? `${fault.type} (injected by test/support/aws-proxy.ts)` }))
      }
      if (fault !== undefined && fault.afterApplying !== true) {
        answerFault()
        return
      }
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, answer => {
        if (fault !== undefined) {
          answer.resume()
          answer.on('end', answerFault)
          return
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
      forward.end(body)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    requests,
    fail (operation, fault, times = 1) {
      const queue = faults.get(operation) ?? []
      for (let i = 0; i < times; i++) queue.push(fault)
      faults.set(operation, queue)
    },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
