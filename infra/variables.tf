variable "region" {
  description = "AWS region to deploy gatehouse into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1 or eu-west-1."
  }
}

variable "name" {
  description = "Name of this gatehouse deployment; prefixes every resource (table, function, API, user pool, key aliases)."
  type        = string
  default     = "gatehouse"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of Project = gatehouse and Deployment = <name>)."
  type        = map(string)
  default     = {}
}

variable "domain_name" {
  description = "Custom domain for gatehouse (e.g. mcp.example.com); needs certificate_arn. Null serves gatehouse on the API's execute-api URL."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in var.region."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone for domain_name's alias record; null if you manage DNS elsewhere."
  type        = string
  default     = null
}

variable "lambda_package_path" {
  description = "Path of the Lambda bundle; null means ../dist/lambda.zip (what `npm run build` writes)."
  type        = string
  default     = null
}

variable "lambda_memory_size" {
  description = "Memory of the gatehouse function, MB. Build with the same LAMBDA_MEMORY_SIZE (default 1024) so the bundle's code cache fits the runtime's heap flags."
  type        = number
  default     = 1024
}

variable "lambda_architecture" {
  description = "x86_64 or arm64. Build on a host of that architecture with LAMBDA_ARCHITECTURE set to it (default x86_64) so the bundle carries a code cache that fits."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_runtime_version_arn" {
  description = "Pins the function's Lambda runtime version (Manual updates) so the bundle's V8 code cache keeps fitting it; null (default) lets AWS patch the runtime. See docs/deploy.md, \"Code cache and runtime updates\"."
  type        = string
  default     = null
}

variable "lambda_provisioned_concurrency" {
  description = "Execution environments Lambda keeps initialised, so the requests they serve never wait for a cold start (billed while provisioned). 0 = on-demand only. See docs/deploy.md, \"Cold starts\"."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_provisioned_concurrency >= 0 && floor(var.lambda_provisioned_concurrency) == var.lambda_provisioned_concurrency
    error_message = "lambda_provisioned_concurrency must be a whole number, 0 or more."
  }
}

variable "lambda_timeout" {
  description = "Timeout of the gatehouse function, seconds (at most 30, the HTTP API limit)."
  type        = number
  default     = 15
}

variable "log_retention_in_days" {
  description = "Retention of the function's logs and the API's access logs, days."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "gatehouse LOG_LEVEL (fatal, error, warn, info, debug, trace, silent)."
  type        = string
  default     = "info"
}

variable "grant_cache_ttl" {
  description = "Seconds /mcp caches a grant check (GRANT_CACHE_TTL): the longest a revoked grant keeps working."
  type        = number
  default     = 30
}

variable "allowed_origins" {
  description = "Further browser origins allowed on /mcp and the cross-origin OAuth endpoints (ALLOWED_ORIGINS), besides the public URL's own origin and loopback origins. [\"*\"] allows any origin and turns off the DNS-rebinding defence: unsafe."
  type        = list(string)
  default     = []
}

variable "client_unused_days" {
  description = "Days a dynamically registered client lives after its registration or its last grant, whichever is later, plus up to a tenth (CLIENT_UNUSED_DAYS); DynamoDB's TTL then removes it, and `gatehouse admin prune` at once. 0 = never expire."
  type        = number
  default     = 90

  validation {
    condition     = var.client_unused_days >= 0 && var.client_unused_days <= 3650 && floor(var.client_unused_days) == var.client_unused_days
    error_message = "client_unused_days must be a whole number of days from 0 to 3650."
  }
}

variable "extra_environment" {
  description = "Further gatehouse settings from src/config.ts (SCOPES, ACCESS_TOKEN_TTL, REDIRECT_SCHEMES, CONNECTOR_TIMEOUT_MS, ...). No secrets, and none of the settings a variable here sets (CLIENT_UNUSED_DAYS, GRANT_CACHE_TTL, LOG_LEVEL, ALLOWED_ORIGINS, JIRA_*, JENKINS_*, CONNECTOR_WRITE_GROUPS, CONNECTOR_ACCESS, GATEHOUSE_BACKENDS): the function module refuses them."
  type        = map(string)
  default     = {}
}

variable "throttling_rate_limit" {
  description = "Requests per second the API accepts across all routes."
  type        = number
  default     = 50
}

variable "throttling_burst_limit" {
  description = "Burst of requests the API accepts above the rate limit."
  type        = number
  default     = 100
}

variable "backends" {
  description = "MCP servers gatehouse protects (GATEHOUSE_BACKENDS, docs/gateway.md): name -> url and rules. A gateway backend is served at <public URL>/mcp/<name> behind the JWT authorizer; a direct one (mode = \"direct\") is only an audience gatehouse issues tokens for. secret_arn sends that secret instead of gatehouse's backend JWT (and lets the function read it)."
  type = map(object({
    url                = string
    title              = optional(string)
    mode               = optional(string, "gateway")
    scopes             = optional(list(string))
    groups             = optional(list(string))
    tools              = optional(map(object({ scopes = optional(list(string)), groups = optional(list(string)) })))
    timeout_ms         = optional(number)
    max_response_bytes = optional(number)
    secret_arn         = optional(string)
    secret_header      = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.backends) : can(regex("^[a-z][a-z0-9-]{0,30}$", name))])
    error_message = "Backend names match ^[a-z][a-z0-9-]{0,30}$ (they become /mcp/<name>)."
  }
  validation {
    condition     = alltrue([for b in values(var.backends) : contains(["gateway", "direct"], b.mode) && can(regex("^https://[^\\s?#]+$", b.url))])
    error_message = "Each backend needs an https url and a mode of gateway or direct."
  }
  validation {
    condition     = alltrue([for b in values(var.backends) : b.secret_arn == null || can(regex("^arn:aws[a-z-]*:(secretsmanager|ssm):", b.secret_arn))])
    error_message = "secret_arn is a Secrets Manager secret or SSM parameter ARN."
  }
}

variable "jira" {
  description = "JIRA connector (the jira_* MCP tools): the Jira Cloud site and the service account's email. Null (default) = not offered. Its API token goes in a Secrets Manager secret created for it (jira_api_token, or stored there later: output jira_api_token_secret_arn)."
  type = object({
    base_url = string
    email    = string
  })
  default = null

  validation {
    condition     = var.jira == null ? true : (can(regex("^https://[^/?#]+(/[^?#]*)?$", var.jira.base_url)) && can(regex("^[^@\\s]+@[^@\\s]+$", var.jira.email)))
    error_message = "jira.base_url must be an https URL and jira.email an email address."
  }
}

variable "jira_api_token" {
  description = "JIRA API token, written write-only (never in state) into the JIRA secret. Pass it with TF_VAR_jira_api_token rather than in the tfvars file. Null = the secret is created empty: store the token with `aws secretsmanager put-secret-value`; until then the jira_* tools say it is missing."
  type        = string
  default     = null
  sensitive   = true
}

variable "jenkins" {
  description = "Jenkins connector (the jenkins_* MCP tools): the Jenkins root URL and the service user. Null (default) = not offered. Its API token goes in a Secrets Manager secret created for it (jenkins_api_token, or stored there later: output jenkins_api_token_secret_arn)."
  type = object({
    url  = string
    user = string
  })
  default = null

  validation {
    condition     = var.jenkins == null ? true : (can(regex("^https://[^/?#]+(/[^?#]*)?$", var.jenkins.url)) && length(var.jenkins.user) > 0)
    error_message = "jenkins.url must be an https URL and jenkins.user non-empty."
  }
}

variable "jenkins_api_token" {
  description = "Jenkins API token, written write-only (never in state) into the Jenkins secret. Pass it with TF_VAR_jenkins_api_token. Null = the secret is created empty."
  type        = string
  default     = null
  sensitive   = true
}

variable "connector_token_version" {
  description = "Increase to write jira_api_token / jenkins_api_token again: write-only values are sent only when this changes, so a new token with the same version is not stored."
  type        = number
  default     = 1

  validation {
    condition     = var.connector_token_version >= 1 && floor(var.connector_token_version) == var.connector_token_version
    error_message = "connector_token_version must be a positive whole number."
  }
}

variable "connector_write_groups" {
  description = "Groups whose members may use the connectors' write tools, jira_create_issue, jira_add_comment and jenkins_trigger_build, with the mcp:write scope (CONNECTOR_WRITE_GROUPS). Set only when a connector is configured."
  type        = list(string)
  default     = ["admins"]

  validation {
    condition     = length(var.connector_write_groups) > 0 && alltrue([for g in var.connector_write_groups : can(regex("^[^,\\s]+$", g))])
    error_message = "connector_write_groups needs at least one group name, each without commas or spaces."
  }
}

variable "connector_access" {
  description = "Group (\"*\" = everyone) -> the JIRA project keys and Jenkins folders its members may see and touch (CONNECTOR_ACCESS), e.g. { engineering = { jira = [\"ENG\"], jenkins = [\"eng\"] }, admins = { jira = [\"*\"], jenkins = [\"*\"] } }. Null (default) = no limit beyond the service accounts' own."
  type = map(object({
    jira    = optional(list(string))
    jenkins = optional(list(string))
  }))
  default = null
}

variable "jwt_authorizer_enabled" {
  description = "Whether API Gateway's JWT authorizer guards POST /mcp (gatehouse verifies tokens itself either way)."
  type        = bool
  default     = true
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted UI domain (<prefix>.auth.<region>.amazoncognito.com). Null means <name>-<account id>."
  type        = string
  default     = null
}

variable "cognito_user_pool_tier" {
  description = "Cognito feature plan: LITE, ESSENTIALS or PLUS (PLUS for threat protection)."
  type        = string
  default     = "ESSENTIALS"
}

variable "cognito_advanced_security_mode" {
  description = "Cognito threat protection: OFF, AUDIT or ENFORCED (needs cognito_user_pool_tier = PLUS)."
  type        = string
  default     = "OFF"
}

variable "cognito_mfa_configuration" {
  description = "MFA for Cognito's own users: OFF, OPTIONAL or ON (TOTP apps)."
  type        = string
  default     = "OPTIONAL"
}

variable "cognito_groups" {
  description = "Cognito groups; their names become the groups claim of gatehouse tokens."
  type = map(object({
    description = optional(string)
    precedence  = optional(number)
  }))
  default = {
    engineering = { description = "Engineers: may use the engineering tools", precedence = 20 }
    admins      = { description = "Administrators of gatehouse and its tools", precedence = 10 }
  }
}

variable "identity_providers" {
  description = "Enterprise SSO federated into the user pool, keyed by provider name; see modules/cognito for the fields (type SAML or OIDC, metadata_url/metadata_file or oidc_issuer/client_id)."
  type = map(object({
    type              = string
    metadata_url      = optional(string)
    metadata_file     = optional(string)
    sign_out          = optional(bool, false)
    oidc_issuer       = optional(string)
    client_id         = optional(string)
    authorize_scopes  = optional(string, "openid email profile")
    attribute_mapping = optional(map(string))
    idp_identifiers   = optional(list(string), [])
  }))
  default = {}
}

variable "identity_provider_client_secrets" {
  description = "Client secrets of the OIDC identity providers, keyed like identity_providers. Pass them with TF_VAR_identity_provider_client_secrets rather than in the tfvars file."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "signing_key_generations" {
  description = "Labels of the token-signing KMS keys, oldest first; the last one signs. Append a label to rotate (see docs/deploy.md)."
  type        = list(string)
  default     = ["1"]
}

variable "operator_role_arns" {
  description = "IAM roles of operators allowed to open grants' sealed upstream tokens (KMS Decrypt under the encryption key, grant contexts only), so `gatehouse admin revoke-grant` / `revoke-user` run by them also end the user's upstream session. Empty: only the function can."
  type        = list(string)
  default     = []
}

variable "cookie_secret_version" {
  description = "Generation of the consent-cookie secret; increase it to replace the secret."
  type        = number
  default     = 1
}

variable "deletion_protection" {
  description = "Protects the DynamoDB table and the Cognito user pool from deletion. Set false (and apply) before `make destroy`."
  type        = bool
  default     = true
}
