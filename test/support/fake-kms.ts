// A hand-written stand-in for the AWS KMS service: a loopback HTTP server that speaks the KMS JSON 1.1
// protocol (X-Amz-Target: TrentService.<Operation>), backed by node crypto. Operations: CreateKey,
// GetPublicKey, Sign, GenerateDataKey, Decrypt; it enforces key usage and the EncryptionContext on Decrypt.
// The AWS JSON server below is shared with fake-secrets.ts.
//
// No test uses it (issue 16): every test that needs KMS, Secrets Manager or SSM runs on the real emulator
// (moto: aws-emulator.ts; aws-proxy.ts in front of it counts calls and injects the faults moto cannot
// produce). Its one remaining user, and the only reason it is kept:
// - scripts/bench-cold-start.ts (the speed engineer's) starts it, with fake-secrets.ts, for the Lambda
//   configuration: GetPublicKey, Sign and GenerateDataKey/Decrypt here, GetSecretValue there. moto serves
//   every one of those calls, but it answers in about 13 ms per Decrypt on this machine, and that time
//   would sit inside the measured cold start, which must be gatehouse's; this server runs in the bench's
//   own process, needs no Python, and answers in well under a millisecond.
// Delete it (and fake-secrets.ts, which shares its JSON server) if the bench moves to moto or stops
// measuring the KMS configuration.
import { createCipheriv, createDecipheriv, createPublicKey, generateKeyPair, privateEncrypt, randomBytes, randomUUID, sign, constants, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { KMSClient } from '@aws-sdk/client-kms'

// ---- AWS JSON 1.1 protocol server ----

export class AwsError extends Error {
  readonly type: string
  readonly status: number
  constructor (type: string, message: string, status = 400) { super(message); this.type = type; this.status = status }
}

export type Operation = (input: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>

export interface AwsJsonServer {
  endpoint: string
  /** Requests per operation name, including the ones that failed. */
  calls: Record<string, number>
  close (): Promise<void>
}

/** Static test credentials: the fakes check that requests are signed, not by whom. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key' }
export const TEST_REGION = 'us-east-1'
export const TEST_ACCOUNT = '111122223333'

export async function startAwsJsonServer (target: string, operations: Record<string, Operation>): Promise<AwsJsonServer> {
  const calls: Record<string, number> = {}
  const server = createServer((req, res) => {
    void handle(req).then(({ status, body }) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() })
      res.end(JSON.stringify(body))
    })
  })

  async function handle (req: IncomingMessage): Promise<{ status: number, body: unknown }> {
    try {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      // The real services refuse unsigned requests; this proves the SDK signed with the test credentials.
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) throw new AwsError('MissingAuthenticationTokenException', 'request is not signed')
      const [service, name] = String(req.headers['x-amz-target'] ?? '').split('.')
      const op = service === target && name !== undefined ? operations[name] : undefined
      if (req.method !== 'POST' || op === undefined) throw new AwsError('UnknownOperationException', `unknown operation ${String(req.headers['x-amz-target'])}`)
      calls[name!] = (calls[name!] ?? 0) + 1
      const input = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      return { status: 200, body: await op(input) }
    } catch (err) {
      if (err instanceof AwsError) return { status: err.status, body: { __type: err.type, message: err.message } }
      return { status: 500, body: { __type: 'InternalFailure', message: String(err) } }
    }
  }

  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections()
      server.close(err => { if (err) reject(err); else resolve() })
    })
  }
}

// ---- KMS ----

const generateKeyPairAsync = promisify(generateKeyPair)
const signAsync = promisify(sign)

// ASN.1 DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): PKCS#1 v1.5 signs prefix || digest.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex')
const BLOB_VERSION = 1
const UUID_LENGTH = 36

interface FakeKey {
  keyId: string
  arn: string
  keySpec: 'RSA_2048' | 'SYMMETRIC_DEFAULT'
  keyUsage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT'
  privateKey?: KeyObject
  secret?: Buffer
  createdAt: number
}

export interface FakeKmsKey {
  keyId: string
  arn: string
}

export interface FakeKms extends AwsJsonServer {
  createSigningKey (): Promise<FakeKmsKey>
  createEncryptionKey (): Promise<FakeKmsKey>
  /** An SDK client aimed at this fake with static test credentials. */
  client (): KMSClient
}

export async function startFakeKms (): Promise<FakeKms> {
  const keys = new Map<string, FakeKey>()

  async function createKey (keySpec: FakeKey['keySpec'], keyUsage: FakeKey['keyUsage']): Promise<FakeKey> {
    const keyId = randomUUID()
    const key: FakeKey = { keyId, arn: `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/${keyId}`, keySpec, keyUsage, createdAt: Math.floor(Date.now() / 1000) }
    if (keySpec === 'RSA_2048') key.privateKey = (await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })).privateKey
    else key.secret = randomBytes(32)
    keys.set(keyId, key)
    return key
  }

  /** KeyId may be a key id or key ARN. */
  function findKey (ref: unknown): FakeKey {
    if (typeof ref !== 'string' || ref === '') throw new AwsError('ValidationException', 'KeyId is required')
    const id = /key\/([0-9a-f-]{36})$/.exec(ref)?.[1] ?? ref
    const key = keys.get(id)
    if (key === undefined) throw new AwsError('NotFoundException', `Key '${ref}' does not exist`)
    return key
  }

  function requireUsage (key: FakeKey, usage: FakeKey['keyUsage'], operation: string): void {
    if (key.keyUsage !== usage) throw new AwsError('InvalidKeyUsageException', `You cannot perform this operation (${operation}) on a key with ${key.keyUsage} key usage.`)
  }

  function blob (input: unknown, name: string): Buffer {
    if (typeof input !== 'string') throw new AwsError('ValidationException', `${name} is required`)
    return Buffer.from(input, 'base64')
  }

  /** Canonical form of an EncryptionContext, bound as AAD: order of keys must not matter, values must. */
  function contextAad (context: unknown): Buffer {
    if (context === undefined) return Buffer.alloc(0)
    if (typeof context !== 'object' || context === null) throw new AwsError('ValidationException', 'EncryptionContext must be a map')
    const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return Buffer.from(JSON.stringify(entries), 'utf8')
  }

  const operations: Record<string, Operation> = {
    async CreateKey (input) {
      const spec = (input.KeySpec ?? 'SYMMETRIC_DEFAULT') as string
      const usage = (input.KeyUsage ?? 'ENCRYPT_DECRYPT') as string
      const ok = (spec === 'RSA_2048' && usage === 'SIGN_VERIFY') || (spec === 'SYMMETRIC_DEFAULT' && usage === 'ENCRYPT_DECRYPT')
      if (!ok) throw new AwsError('ValidationException', `the fake KMS supports RSA_2048/SIGN_VERIFY and SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT, not ${spec}/${usage}`)
      const key = await createKey(spec as FakeKey['keySpec'], usage as FakeKey['keyUsage'])
      return { KeyMetadata: { KeyId: key.keyId, Arn: key.arn, KeySpec: key.keySpec, KeyUsage: key.keyUsage, KeyState: 'Enabled', Enabled: true, CreationDate: key.createdAt, AWSAccountId: TEST_ACCOUNT } }
    },

    GetPublicKey (input) {
      const key = findKey(input.KeyId)
      if (key.privateKey === undefined) throw new AwsError('UnsupportedOperationException', `${key.arn} key type is not supported for this operation.`)
      return {
        KeyId: key.arn,
        PublicKey: createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
        KeySpec: key.keySpec,
        CustomerMasterKeySpec: key.keySpec,
        KeyUsage: key.keyUsage,
        SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256']
      }
    },

    async Sign (input) {
      const key = findKey(input.KeyId)
      requireUsage(key, 'SIGN_VERIFY', 'Sign')
      if (input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256') throw new AwsError('ValidationException', `the fake KMS signs only with RSASSA_PKCS1_V1_5_SHA_256, not ${String(input.SigningAlgorithm)}`)
      const message = blob(input.Message, 'Message')
      const type = input.MessageType ?? 'RAW'
      let signature: Buffer
      if (type === 'DIGEST') {
        if (message.length !== 32) throw new AwsError('ValidationException', 'Digest is invalid length for algorithm RSASSA_PKCS1_V1_5_SHA_256.')
        signature = privateEncrypt({ key: key.privateKey!, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, message]))
      } else if (type === 'RAW') {
        if (message.length > 4096) throw new AwsError('ValidationException', 'Message must be at most 4096 bytes; use MessageType DIGEST')
        signature = await signAsync('sha256', message, key.privateKey!)
      } else {
        throw new AwsError('ValidationException', `unknown MessageType ${String(type)}`)
      }
      return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: input.SigningAlgorithm }
    },

    GenerateDataKey (input) {
      const key = findKey(input.KeyId)
      requireUsage(key, 'ENCRYPT_DECRYPT', 'GenerateDataKey')
      const length = input.KeySpec === 'AES_256' ? 32 : input.KeySpec === 'AES_128' ? 16 : input.NumberOfBytes
      if (typeof length !== 'number' || length < 1 || length > 1024) throw new AwsError('ValidationException', 'KeySpec or NumberOfBytes is required')
      const plaintext = randomBytes(length)
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key.secret!, iv)
      cipher.setAAD(contextAad(input.EncryptionContext))
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
      const ciphertextBlob = Buffer.concat([Buffer.from([BLOB_VERSION]), Buffer.from(key.keyId, 'ascii'), iv, cipher.getAuthTag(), ct])
      return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: ciphertextBlob.toString('base64') }
    },

    Decrypt (input) {
      const data = blob(input.CiphertextBlob, 'CiphertextBlob')
      const invalid = () => new AwsError('InvalidCiphertextException', 'The ciphertext or its encryption context is invalid.')
      if (data.length < 1 + UUID_LENGTH + 12 + 16 || data[0] !== BLOB_VERSION) throw invalid()
      const blobKeyId = data.subarray(1, 1 + UUID_LENGTH).toString('ascii')
      const key = keys.get(blobKeyId)
      if (key === undefined) throw invalid()
      if (input.KeyId !== undefined && findKey(input.KeyId).keyId !== key.keyId) throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext.')
      requireUsage(key, 'ENCRYPT_DECRYPT', 'Decrypt')
      const iv = data.subarray(1 + UUID_LENGTH, 1 + UUID_LENGTH + 12)
      const tag = data.subarray(1 + UUID_LENGTH + 12, 1 + UUID_LENGTH + 28)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.secret!, iv)
        decipher.setAAD(contextAad(input.EncryptionContext))
        decipher.setAuthTag(tag)
        const plaintext = Buffer.concat([decipher.update(data.subarray(1 + UUID_LENGTH + 28)), decipher.final()])
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
      } catch {
        throw invalid()
      }
    }
  }

  const server = await startAwsJsonServer('TrentService', operations)
  const toRef = (k: FakeKey): FakeKmsKey => ({ keyId: k.keyId, arn: k.arn })
  return {
    ...server,
    createSigningKey: async () => toRef(await createKey('RSA_2048', 'SIGN_VERIFY')),
    createEncryptionKey: async () => toRef(await createKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT')),
    client: () => new KMSClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 })
  }
}
