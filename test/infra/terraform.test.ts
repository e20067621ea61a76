// The binary tier: terraform fmt, init (offline, from the provider mirror), validate for the root and every
// module, and `terraform test` (mock_provider "aws", plan-time assertions in infra/tests/). Works on a
// temporary copy of infra/ with its own TF_DATA_DIR, so the tree stays clean and runs may overlap.
// Where terraform or the mirror is missing, this tier is reported as skipped; terraform-static.test.ts
// still checks the same facts by parsing the .tf files.
import t from 'tap'
import { execFile } from 'node:child_process'
import { access, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { INFRA_DIR, MODULES } from './terraform-facts.ts'
import { findMirror, findTerraform, offlineTerraformEnv } from '../support/terraform.ts'

const run = promisify(execFile)

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

// Init, validate of six configurations and ~20 planned run blocks take about a minute on two cores.
t.setTimeout(170_000)

const terraform = await findTerraform()
const mirror = await findMirror()
const missing = terraform === undefined ? 'terraform binary not found (set TERRAFORM_BIN)' : mirror === undefined ? 'no offline mirror of hashicorp/aws found (set TF_PLUGIN_MIRROR)' : undefined

if (missing !== undefined) {
  t.test(`terraform fmt, init, validate and test (skipped, not passed: ${missing})`, { skip: missing }, () => {})
} else {
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-infra-'))
  t.teardown(() => rm(work, { recursive: true, force: true }))
  const copy = join(work, 'infra')
  await cp(INFRA_DIR, copy, {
    recursive: true,
    filter: src => !/(^|\/)(\.terraform|\.terraform\.lock\.hcl|terraform\.tfstate[^/]*|terraform\.tfvars)$/.test(src)
  })
  const env = offlineTerraformEnv(work)
  const tf = async (dir: string, dataDir: string, args: string[]) => {
    try {
      return await run(terraform as string, ['-chdir=' + dir, ...args], { env: { ...env, TF_DATA_DIR: dataDir }, maxBuffer: 32 * 1024 * 1024 })
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, message: string }
      throw new Error(`terraform ${args.join(' ')} in ${dir} failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`)
    }
  }
  const init = (dir: string, dataDir: string) => tf(dir, dataDir, ['init', '-backend=false', '-input=false', '-no-color', `-plugin-dir=${mirror as string}`])

  t.test('terraform fmt -check -recursive finds nothing to reformat', async t => {
    const { stdout } = await tf(copy, join(work, 'data-fmt'), ['fmt', '-check', '-recursive', '-no-color'])
    t.equal(stdout.trim(), '', 'no file needs formatting')
  })

  t.test('the root and every module initialise offline and validate', async t => {
    const dirs = [copy, ...MODULES.map(m => join(copy, 'modules', m))]
    // Two at a time: each init links the provider and each validate starts it.
    for (let i = 0; i < dirs.length; i += 2) {
      await Promise.all(dirs.slice(i, i + 2).map(async (dir, j) => {
        const data = join(work, `data-${i + j}`)
        await init(dir, data)
        const { stdout } = await tf(dir, data, ['validate', '-json', '-no-color'])
        const result = JSON.parse(stdout) as { valid: boolean, error_count: number, diagnostics: unknown[] }
        t.ok(result.valid, `${dir.slice(copy.length) || '/'} is valid`, { diagnostics: result.diagnostics })
      }))
    }
  })

  t.test('terraform test: plan-time assertions against mock_provider "aws" (facts and rejected variable values)', async t => {
    // The root was initialised with data-0 above; init again if this test runs alone (tap --grep).
    const data = join(work, 'data-0')
    if (!await exists(join(data, 'modules', 'modules.json'))) await init(copy, data)
    const { stdout } = await tf(copy, data, ['test', '-no-color'])
    t.match(stdout, /Success! \d+ passed, 0 failed\./, 'every run block passes')
    const passed = [...stdout.matchAll(/run "([^"]+)"\.\.\. pass/g)].map(m => m[1])
    for (const name of ['root_wires_mcp_url_issuer_and_outputs_without_a_cycle', 'storage_table_has_ttl_pitr_and_customer_key_encryption',
      'function_runs_the_bundle_on_nodejs22_x86_64_with_the_app_environment', 'api_routes_every_gatehouse_path_and_guards_post_mcp_with_a_jwt_authorizer',
      'keys_are_rsa_sign_verify_and_symmetric_scoped_to_the_role', 'cognito_pool_client_domain_groups_and_sso', 'root_rejects_a_bad_region',
      'function_with_provisioned_concurrency_keeps_the_published_version_warm_behind_an_alias', 'api_may_invoke_exactly_the_function_or_alias_it_integrates',
      'root_provisioned_concurrency_routes_api_gateway_to_the_warm_alias', 'function_rejects_provisioned_concurrency_beyond_the_reserved_concurrency',
      'every_signing_key_public_half_is_delivered_by_its_key_id', 'a_single_signing_key_is_delivered_alone',
      'root_without_connectors_has_no_connector_setting_secret_or_grant', 'root_connectors_reach_the_function_with_their_secrets_and_grants',
      'root_rejects_bad_connector_and_client_lifetime_settings', 'client_unused_days_becomes_client_unused_days_and_is_bounded',
      'function_refuses_a_setting_it_manages_in_extra_environment', 'function_rejects_client_unused_days_out_of_range']) {
      t.ok(passed.includes(name), `run "${name}" passed`)
    }
  })
}
