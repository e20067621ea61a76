// Finding terraform and an offline mirror of the hashicorp/aws provider, shared by the Terraform tiers
// (test/infra/terraform.test.ts, test/deployed/stack.test.ts). Neither downloads anything: where one is
// missing, those tiers report themselves skipped.
import { access, readdir } from 'node:fs/promises'
import { join } from 'node:path'

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

export async function findTerraform (): Promise<string | undefined> {
  const candidates = [process.env.TERRAFORM_BIN, ...(process.env.PATH ?? '').split(':').map(d => join(d, 'terraform'))]
  for (const c of candidates) if (c !== undefined && c !== '' && await exists(c)) return c
  return undefined
}

/** A filesystem mirror holding registry.terraform.io/hashicorp/aws (TF_PLUGIN_MIRROR, or a few usual places). */
export async function findMirror (): Promise<string | undefined> {
  const roots = [process.env.TF_PLUGIN_MIRROR, '/opt/tf-plugins', '/usr/local/share/terraform/plugins', '/usr/share/terraform/plugins',
    join(process.env.HOME ?? '/root', '.terraform.d', 'plugins'), '/opt/terraform/plugins']
  for (const r of roots) if (r !== undefined && r !== '' && await exists(join(r, 'registry.terraform.io', 'hashicorp', 'aws'))) return r
  for (const base of ['/opt', '/usr/local/share', '/usr/share']) {
    for (const d of await readdir(base).catch(() => [] as string[])) {
      const r = join(base, d)
      if (await exists(join(r, 'registry.terraform.io', 'hashicorp', 'aws'))) return r
    }
  }
  return undefined
}

/**
 * An environment for terraform with no network but loopback: no checkpoint calls, no CLI config (so no
 * provider_installation but the -plugin-dir passed to init), and a proxy that goes nowhere for anything
 * that still tries. NO_PROXY lets loopback through, for an emulator.
 */
export function offlineTerraformEnv (home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    CHECKPOINT_DISABLE: '1',
    TF_CLI_CONFIG_FILE: '/dev/null',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    NO_COLOR: '1',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost'
  }
}
