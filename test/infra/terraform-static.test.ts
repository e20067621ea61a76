// The static tier: the facts the issue names, read from the .tf files with @cdktf/hcl2json. Runs with or
// without the terraform binary; terraform.test.ts adds fmt/validate/plan-time tests where the binary exists.
import t from 'tap'
import { access, readFile } from 'node:fs/promises'
import { parse } from '@cdktf/hcl2json'
import { join } from 'node:path'
import { EnvSchema } from '../../src/config.ts'
import { USER_INDEX } from '../../src/store/keys.ts'
import { LAMBDA_DEFAULT_ARCHITECTURE, LAMBDA_DEFAULT_MEMORY_SIZE } from '../../scripts/code-cache.ts'
import { INFRA_DIR, MODULES, admits, body, loadAll, resource, statements, strings, type Hcl, type TfConfig } from './terraform-facts.ts'

const { root, modules } = await loadAll()
const all: TfConfig[] = [root, ...Object.values(modules)]

t.test('each module has main.tf, variables.tf, outputs.tf, versions.tf and a README (terraform-aws-modules layout)', async t => {
  for (const m of MODULES) {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
      await t.resolves(access(join(INFRA_DIR, 'modules', m, f)), `modules/${m}/${f}`)
    }
  }
  for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'terraform.tfvars.example']) {
    await t.resolves(access(join(INFRA_DIR, f)), f)
  }
})

t.test('every variable has a description and a type', async t => {
  for (const c of all) {
    for (const [name, v] of Object.entries(c.variables)) {
      t.ok(typeof v.description === 'string' && v.description.length > 10, `${c.dir}: var.${name} is described`)
      t.ok(typeof v.type === 'string' && !/\bany\b/.test(v.type), `${c.dir}: var.${name} has a type, not any`)
    }
  }
})

t.test('variables where a bad value is cheap to catch carry validations', async t => {
  const expected: Record<string, string[]> = {
    '.': ['region', 'name', 'lambda_architecture', 'client_unused_days', 'jira', 'jenkins', 'connector_token_version', 'connector_write_groups'],
    'modules/storage': ['name', 'kms_key_arn', 'key_deletion_window_in_days'],
    'modules/keys': ['signing_key_generations', 'user_role_arn', 'deletion_window_in_days'],
    'modules/function': ['memory_size', 'architecture', 'timeout', 'log_retention_in_days', 'log_level', 'public_url', 'table_arn', 'upstream_client_secret_arn', 'extra_environment', 'client_unused_days', 'jira', 'jenkins', 'connector_token_version', 'connector_write_groups'],
    'modules/api': ['domain_name', 'certificate_arn', 'throttling_rate_limit', 'throttling_burst_limit', 'access_log_retention_in_days'],
    'modules/cognito': ['domain_prefix', 'mfa_configuration', 'advanced_security_mode', 'user_pool_tier', 'callback_urls', 'identity_providers']
  }
  for (const c of all) {
    for (const name of expected[c.dir] ?? []) t.ok(c.variables[name]?.validation !== undefined, `${c.dir}: var.${name} is validated`)
  }
})

t.test('the aws provider is pinned with a minimum that admits 5.100.0', async t => {
  for (const c of all) {
    const tf = c.terraform.find(b => b.required_providers !== undefined)
    t.ok(tf, `${c.dir}: versions.tf declares required_providers`)
    const aws = body(tf?.required_providers).aws as Hcl | undefined
    t.equal(aws?.source, 'hashicorp/aws', `${c.dir}: hashicorp/aws`)
    const version = String(aws?.version)
    t.match(version, />=\s*\d/, `${c.dir}: a minimum version`)
    t.ok(admits(version, '5.100.0'), `${c.dir}: "${version}" admits 5.100.0`)
    t.ok(typeof tf?.required_version === 'string', `${c.dir}: required_version set`)
  }
})

t.test('the main resource of each module is named this', async t => {
  const main: Record<string, string> = { storage: 'aws_dynamodb_table', keys: 'aws_kms_key', function: 'aws_lambda_function', api: 'aws_apigatewayv2_api', cognito: 'aws_cognito_user_pool' }
  for (const [m, type] of Object.entries(main)) t.ok(modules[m as keyof typeof modules].resources[type]?.this, `modules/${m}: ${type}.this`)
})

t.test('the table: on-demand pk/sk, TTL on expiresAt, PITR, SSE with the customer-managed key, deletion protection variable', async t => {
  const s = modules.storage
  const table = resource(s, 'aws_dynamodb_table', 'this')
  t.equal(table.billing_mode, 'PAY_PER_REQUEST')
  t.equal(table.hash_key, 'pk')
  t.equal(table.range_key, 'sk')
  t.same(body(table.ttl), { attribute_name: 'expiresAt', enabled: true }, 'TTL enabled on expiresAt')
  // The same index as the embedded store's table (src/store/table.ts, USER_INDEX in src/store/keys.ts).
  t.same(body(table.global_secondary_index), { name: USER_INDEX.name, hash_key: USER_INDEX.pk, range_key: USER_INDEX.sk, projection_type: 'ALL' }, 'the byUser index')
  t.same(body(table.point_in_time_recovery), { enabled: true }, 'PITR on')
  const sse = body(table.server_side_encryption)
  t.equal(sse.enabled, true, 'SSE enabled')
  t.equal(sse.kms_key_arn, '${local.kms_key_arn}')
  t.match(String(s.locals.kms_key_arn), /aws_kms_key\.table\[0\]\.arn/, 'the customer-managed key of the module (or one given)')
  t.equal(table.deletion_protection_enabled, '${var.deletion_protection}')
})

t.test('the keys: RSA_2048 SIGN_VERIFY for signing, symmetric for envelope encryption, usable only by the function role', async t => {
  const k = modules.keys
  const signing = resource(k, 'aws_kms_key', 'this')
  t.equal(signing.customer_master_key_spec, 'RSA_2048')
  t.equal(signing.key_usage, 'SIGN_VERIFY')
  const enc = resource(k, 'aws_kms_key', 'encryption')
  t.equal(enc.customer_master_key_spec, 'SYMMETRIC_DEFAULT')
  t.equal(enc.key_usage, 'ENCRYPT_DECRYPT')
  t.equal(enc.enable_key_rotation, true)
  const users = statements(k.locals).filter(s => s.Sid !== 'KeyAdministration' && s.Sid !== 'OperatorsOpenGrantUpstreamTokens')
  t.ok(users.length >= 2)
  for (const s of users) t.same(s.Principal, { AWS: '${var.user_role_arn}' }, `${String(s.Sid)}: only the function role`)
  const operators = statements(k.locals).filter(s => s.Sid === 'OperatorsOpenGrantUpstreamTokens')
  t.equal(operators.length, 1, 'one statement for operator roles (present only when operator_role_arns is set)')
  t.same(operators[0]?.Principal, { AWS: '${var.operator_role_arns}' }, 'operators: exactly the roles named')
  t.same(operators[0]?.Action, ['kms:Decrypt'], 'operators: decrypt only')
  t.same(operators[0]?.Condition, { StringLike: { 'kms:EncryptionContext:gatehouse:context': 'grant:*' } }, 'operators: only values sealed for a grant')
})

t.test('the function: nodejs22.x bundle on var.architecture, log retention, environment names are exactly config.ts settings, no secret values', async t => {
  const f = modules.function
  const fn = resource(f, 'aws_lambda_function', 'this')
  t.equal(fn.runtime, 'nodejs22.x')
  t.same(fn.architectures, ['${var.architecture}'])
  t.equal(fn.handler, 'index.handler')
  t.match(String(fn.source_code_hash), /filebase64sha256\(local\.package_path\)/)
  t.match(String(f.locals.package_path), /path\.module}\/\.\.\/\.\.\/\.\.\/dist\/lambda\.zip/)
  t.equal(resource(f, 'aws_cloudwatch_log_group', 'this').retention_in_days, '${var.log_retention_in_days}')

  const known = new Set(Object.keys(EnvSchema.properties))
  const env = f.locals.managed_environment as Hcl
  for (const name of Object.keys(env)) t.ok(known.has(name), `${name} is read by src/config.ts`)
  for (const name of ['GATEHOUSE_PUBLIC_URL', 'GATEHOUSE_TABLE', 'UPSTREAM_ISSUER', 'UPSTREAM_CLIENT_ID', 'UPSTREAM_CLIENT_SECRET_ARN', 'UPSTREAM_AUTHORIZATION_ENDPOINT', 'UPSTREAM_TOKEN_ENDPOINT', 'UPSTREAM_REVOCATION_ENDPOINT', 'KMS_SIGNING_KEY_ID', 'KMS_PREVIOUS_SIGNING_KEY_IDS', 'KMS_ENCRYPTION_KEY_ID', 'COOKIE_SECRET_ARN', 'GRANT_CACHE_TTL', 'LOG_LEVEL', 'ALLOWED_ORIGINS']) {
    t.ok(name in env, `${name} is set`)
  }
  t.notOk('UPSTREAM_CLIENT_SECRET' in env, 'the client secret itself is never in the environment')
  t.notOk('COOKIE_SECRET' in env, 'the cookie secret itself is never in the environment')
})

t.test('the root module passes every connector input and client_unused_days to the function module, the tokens as sensitive variables', async t => {
  const main = await readFile(join(INFRA_DIR, 'main.tf'), 'utf8')
  for (const v of ['client_unused_days', 'jira', 'jira_api_token', 'jenkins', 'jenkins_api_token', 'connector_token_version', 'connector_write_groups', 'connector_access']) {
    t.ok(v in root.variables && v in modules.function.variables, `var.${v} at the root and in the module`)
    t.match(main, new RegExp(`^\\s*${v}\\s*=\\s*var\\.${v}$`, 'm'), `the root passes ${v}`)
    t.same(body(root.variables[v]).default, body(modules.function.variables[v]).default, `${v}: the same default`)
  }
  for (const v of ['jira_api_token', 'jenkins_api_token']) {
    t.equal(body(root.variables[v]).sensitive, true, `root var.${v} is sensitive`)
    t.equal(body(modules.function.variables[v]).sensitive, true, `module var.${v} is sensitive`)
  }
  t.equal(body(root.variables.client_unused_days).default, (EnvSchema.properties.CLIENT_UNUSED_DAYS as { default?: number }).default, 'client_unused_days defaults to config.ts\'s CLIENT_UNUSED_DAYS')
})

t.test('extra_environment refuses exactly the settings the function module sets itself (they would silently win)', async t => {
  const f = modules.function
  const conditions = ([] as Hcl[]).concat(f.variables.extra_environment?.validation as Hcl | Hcl[]).map(v => String(body(v).condition))
  const refused = conditions.flatMap(c => c.includes('setintersection') ? [...c.matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map(m => m[1]) : [])
  const secretShaped = (name: string) => /SECRET|PASSWORD|^AWS_/.test(name)
  const managed = [f.locals.managed_environment, f.locals.connector_environment, f.locals.backend_environment].flatMap(env => Object.keys(env as Hcl)).filter(n => !secretShaped(n))
  t.ok(refused.length > 20, `found the refused names (${refused.length})`)
  t.same([...refused].sort(), [...managed].sort(), 'the refused names are the managed ones (secret-shaped names are refused anyway)')
})

t.test('the API: a JWT authorizer on POST /mcp with issuer = public URL and audience = every resource URL (the /mcp URL and each gateway backend), throttling, access logs, CORS', async t => {
  const a = modules.api
  const authorizer = resource(a, 'aws_apigatewayv2_authorizer', 'mcp')
  t.equal(authorizer.authorizer_type, 'JWT')
  t.same(authorizer.identity_sources, ['$request.header.Authorization'])
  const jwt = body(authorizer.jwt_configuration)
  t.equal(jwt.issuer, '${local.public_url}')
  t.equal(jwt.audience, '${local.resource_urls}')
  t.match(String(a.locals.resource_urls), /concat\(\[local\.mcp_url\], \[for name in var\.backend_names : "\$\{local\.mcp_url\}\/\$\{name\}"\]\)/, 'the /mcp URL and <mcp URL>/<name> per gateway backend')
  t.match(String(a.locals.public_url), /var\.domain_name.*aws_apigatewayv2_api\.this\.api_endpoint/, 'public URL = custom domain, else the API endpoint (no cycle through the function)')
  t.equal(a.locals.mcp_url, '${local.public_url}/mcp')

  const mcp = resource(a, 'aws_apigatewayv2_route', 'mcp')
  t.equal(mcp.route_key, 'POST /mcp')
  t.match(String(mcp.authorization_type), /"JWT"/)
  t.match(String(mcp.authorizer_id), /aws_apigatewayv2_authorizer\.mcp/)
  const routes = String(a.locals.public_routes) + ' "POST /mcp"'
  for (const r of ['GET /.well-known/oauth-authorization-server', 'GET /.well-known/openid-configuration', 'GET /.well-known/oauth-protected-resource',
    'GET /.well-known/oauth-protected-resource/mcp', 'GET /jwks.json', 'POST /register', 'GET /authorize', 'POST /authorize/consent', 'GET /callback', 'GET /account', 'POST /account/revoke',
    'POST /token', 'POST /introspect', 'POST /revoke', 'POST /mcp', 'GET /mcp', 'DELETE /mcp', 'GET /healthz']) {
    t.ok(routes.includes(`"${r}"`), `route ${r}`)
  }
  const stage = resource(a, 'aws_apigatewayv2_stage', 'default')
  const throttling = body(stage.default_route_settings)
  t.ok(throttling.throttling_rate_limit !== undefined && throttling.throttling_burst_limit !== undefined, 'throttling set')
  t.ok(body(stage.access_log_settings).destination_arn, 'access logs on')
  t.equal(resource(a, 'aws_cloudwatch_log_group', 'access').retention_in_days, '${var.access_log_retention_in_days}')
  t.equal(resource(a, 'aws_apigatewayv2_api', 'this').cors_configuration, undefined, 'no API-level CORS: gatehouse answers preflights, and none for the browser routes (RFC 9700 §2.6)')
})

t.test('the Cognito pool: email sign-in, MFA variable, domain, one confidential code-flow client, groups and SSO from variables', async t => {
  const c = modules.cognito
  const pool = resource(c, 'aws_cognito_user_pool', 'this')
  t.same(pool.username_attributes, ['email'])
  t.equal(pool.mfa_configuration, '${var.mfa_configuration}')
  t.ok(pool.password_policy)
  t.ok(resource(c, 'aws_cognito_user_pool_domain', 'this'))
  const client = resource(c, 'aws_cognito_user_pool_client', 'gatehouse')
  t.equal(client.generate_secret, true)
  t.same(client.allowed_oauth_flows, ['code'])
  t.same(client.allowed_oauth_scopes, ['openid', 'email', 'profile'])
  t.equal(resource(c, 'aws_cognito_user_group', 'this').for_each, '${var.groups}')
  t.equal(resource(c, 'aws_cognito_identity_provider', 'this').for_each, '${var.identity_providers}')
  t.same(Object.keys(body(c.variables.groups).default as Hcl).sort(), ['admins', 'engineering'])
})

t.test('IAM: no wildcard Action anywhere; Resource "*" only inside key policies; the log-stream suffix is the one partial wildcard', async t => {
  let checked = 0
  for (const c of all) {
    for (const s of statements(c.locals)) {
      checked++
      const where = `${c.dir} ${String(s.Sid ?? '')}`
      for (const a of strings(s.Action ?? s.actions, c.locals)) t.notOk(a.includes('*'), `${where}: action ${a} is explicit`)
      for (const r of strings(s.Resource ?? s.resources, c.locals)) {
        if (r === '*') t.ok(s.Principal !== undefined, `${where}: Resource "*" only in a key policy (where it means "this key")`)
        else if (r.includes('*')) t.match(r, /^\$\{local\.log_group_arn\}:\*$/, `${where}: only log streams use a wildcard suffix`)
      }
    }
  }
  t.ok(checked >= 9, `found the policies (${checked} statements)`)
  t.notOk(JSON.stringify(modules.function.locals.role_policy).includes('cognito-idp:'), 'no Cognito IAM action: RevokeToken is authorised by the client secret, not IAM')
})

t.test('no output carries a secret', async t => {
  for (const c of all) {
    for (const [name, o] of Object.entries(c.outputs)) {
      const value = JSON.stringify(o.value)
      t.notMatch(value, /client_secret\b|random_password|secret_string|password/, `${c.dir}: output ${name} has no secret value`)
      if (/secret/.test(name)) t.match(name, /_arn$/, `${c.dir}: output ${name} is an ARN`)
      if (c === root) t.not(o.sensitive, true, `root output ${name} is not hiding a secret`)
    }
  }
})

t.test('the root outputs the MCP URL, issuer, hosted UI domain, table and function names', async t => {
  for (const o of ['mcp_url', 'issuer', 'cognito_hosted_ui_domain', 'dynamodb_table_name', 'lambda_function_name', 'jira_api_token_secret_arn', 'jenkins_api_token_secret_arn']) t.ok(root.outputs[o], o)
})

t.test('terraform.tfvars.example sets only variables the root declares', async t => {
  const example = await parse('terraform.tfvars.example', await readFile(join(INFRA_DIR, 'terraform.tfvars.example'), 'utf8')) as Hcl
  t.ok(Object.keys(example).length > 5)
  for (const name of Object.keys(example)) t.ok(name in root.variables, `${name} is a root variable`)
})

t.test('the build\'s code cache targets the function as Terraform deploys it by default (memory → heap flags, architecture)', async t => {
  t.equal(body(root.variables.lambda_memory_size).default, LAMBDA_DEFAULT_MEMORY_SIZE)
  t.equal(body(modules.function.variables.memory_size).default, LAMBDA_DEFAULT_MEMORY_SIZE)
  t.equal(body(root.variables.lambda_architecture).default, LAMBDA_DEFAULT_ARCHITECTURE)
  t.equal(body(modules.function.variables.architecture).default, LAMBDA_DEFAULT_ARCHITECTURE)
  t.match(await readFile(join(INFRA_DIR, 'main.tf'), 'utf8'), /^\s*architecture\s*=\s*var\.lambda_architecture$/m, 'the root passes its architecture to the function')
})
