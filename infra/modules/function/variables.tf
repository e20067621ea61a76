variable "name" {
  description = "Name of the Lambda function; also prefixes its role, log group and secrets."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, '_' or '-' (it is a Lambda function name and an IAM role name prefix)."
  }
}

variable "package_path" {
  description = "Path of the esbuild bundle (a zip holding index.cjs) that `npm run build` writes. Null means dist/lambda.zip at the repository root."
  type        = string
  default     = null
}

variable "memory_size" {
  description = "Memory of the function, MB (CPU grows with it; 1024 keeps cold starts and KMS/JWT work snappy). The runtime derives V8 heap flags from it, and the bundle's code cache is built for those flags: build with the same LAMBDA_MEMORY_SIZE."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "Lambda memory must be a whole number of MB between 128 and 10240."
  }
}

variable "architecture" {
  description = "Instruction set of the function. The bundle's V8 code cache (faster cold starts) is built by `npm run build` for LAMBDA_ARCHITECTURE (default x86_64) and only on a host of that architecture; it is skipped on any other."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "runtime_version_arn" {
  description = "Lambda runtime version to pin (update_runtime_on = Manual), e.g. the `Runtime Version ARN` of an INIT_START log line that showed no `code cache` warning. Null (the default) lets AWS update the runtime (update_runtime_on = Auto); after such an update the code cache may go unused until the next build, which the function logs."
  type        = string
  default     = null

  validation {
    condition     = var.runtime_version_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+::runtime:[0-9a-f]{64}$", var.runtime_version_arn))
    error_message = "runtime_version_arn must be a Lambda runtime version ARN (arn:aws:lambda:<region>::runtime:<64 hex digits>) or null."
  }
}

variable "timeout" {
  description = "Function timeout, seconds. API Gateway HTTP APIs stop waiting after 30 s, so more is useless."
  type        = number
  default     = 15

  validation {
    condition     = var.timeout >= 3 && var.timeout <= 30 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 3 to 30 (the HTTP API integration limit)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) the function; -1 leaves it unreserved."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a non-negative number."
  }
}

variable "provisioned_concurrency" {
  description = "Execution environments kept initialised (no cold start for requests they serve). 0 = none (on-demand only, the default). Above 0, each deploy publishes a version behind the alias \"live\" and API Gateway invokes that alias."
  type        = number
  default     = 0

  validation {
    condition     = var.provisioned_concurrency >= 0 && floor(var.provisioned_concurrency) == var.provisioned_concurrency
    error_message = "provisioned_concurrency must be a whole number, 0 or more."
  }
  validation {
    condition     = var.reserved_concurrent_executions == -1 || var.provisioned_concurrency <= var.reserved_concurrent_executions
    error_message = "provisioned_concurrency cannot exceed reserved_concurrent_executions (AWS refuses it)."
  }
}

variable "log_retention_in_days" {
  description = "How long CloudWatch keeps the function's logs, days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653); 0 (never expire) is not allowed here."
  }
}

variable "log_level" {
  description = "gatehouse LOG_LEVEL."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace", "silent"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace, silent."
  }
}

variable "public_url" {
  description = "gatehouse's public base URL (GATEHOUSE_PUBLIC_URL): https, scheme and host only, no path and no trailing slash. It is the token issuer; the MCP URL is <public_url>/mcp."
  type        = string

  validation {
    condition     = can(regex("^https://[^/?#]+$", var.public_url))
    error_message = "public_url must be https://host with no path, query or trailing slash."
  }
}

variable "table_name" {
  description = "DynamoDB table (GATEHOUSE_TABLE)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the DynamoDB table; the role may use this table only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.table_arn))
    error_message = "table_arn must be a DynamoDB table ARN."
  }
}

variable "table_kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the table; the role may use it only through DynamoDB."
  type        = string
}

variable "signing_key_arn" {
  description = "KMS asymmetric key (RSA_2048, SIGN_VERIFY) that signs new access tokens (KMS_SIGNING_KEY_ID)."
  type        = string
}

variable "previous_signing_key_arns" {
  description = "Earlier signing keys whose public keys stay in /jwks.json during rotation (KMS_PREVIOUS_SIGNING_KEY_IDS)."
  type        = list(string)
  default     = []
}

variable "encryption_key_arn" {
  description = "KMS symmetric key for envelope encryption of upstream tokens (KMS_ENCRYPTION_KEY_ID)."
  type        = string
}

variable "upstream_issuer" {
  description = "OIDC issuer of the upstream IdP (UPSTREAM_ISSUER), e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>."
  type        = string

  validation {
    condition     = can(regex("^https://", var.upstream_issuer))
    error_message = "upstream_issuer must be an https URL."
  }
}

variable "upstream_client_id" {
  description = "Client id of gatehouse's app client at the upstream IdP (UPSTREAM_CLIENT_ID)."
  type        = string
}

variable "upstream_client_secret_arn" {
  description = "Secrets Manager secret whose SecretString is the upstream app client secret (UPSTREAM_CLIENT_SECRET_ARN). The function reads it at start; the value never enters its environment."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.upstream_client_secret_arn))
    error_message = "upstream_client_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "upstream_endpoints" {
  description = "Upstream OAuth endpoints (UPSTREAM_AUTHORIZATION_ENDPOINT, UPSTREAM_TOKEN_ENDPOINT, UPSTREAM_REVOCATION_ENDPOINT, UPSTREAM_JWKS_URI). Null ones are left to the issuer's discovery document."
  type = object({
    authorization = optional(string)
    token         = optional(string)
    revocation    = optional(string)
    jwks          = optional(string)
  })
  default = {}

  validation {
    condition     = alltrue([for u in values(var.upstream_endpoints) : u == null || can(regex("^https://", u))])
    error_message = "Every upstream endpoint must be an https URL."
  }
}

variable "grant_cache_ttl" {
  description = "Seconds /mcp caches a grant check (GRANT_CACHE_TTL); a revoked grant keeps working at most this long. 0 checks every request."
  type        = number
  default     = 30

  validation {
    condition     = var.grant_cache_ttl >= 0 && var.grant_cache_ttl <= 300
    error_message = "grant_cache_ttl must be 0 to 300 seconds."
  }
}

variable "allowed_origins" {
  description = "Further browser origins allowed on /mcp and the cross-origin OAuth endpoints (ALLOWED_ORIGINS), besides the public URL's own origin and loopback origins. [\"*\"] allows any origin: unsafe."
  type        = list(string)
  default     = []
}

variable "extra_environment" {
  description = "More gatehouse settings from src/config.ts (for example SCOPES, ACCESS_TOKEN_TTL, REDIRECT_SCHEMES). Cannot override the variables this module sets, and must never hold a secret."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !can(regex("SECRET|PASSWORD|^AWS_", k))])
    error_message = "extra_environment names must be UPPER_SNAKE_CASE, must not start with AWS_ and must not be secrets (use the *_ARN settings for secrets)."
  }
  # The module's own settings would silently win over these: refuse them (each has a variable of its own).
  validation {
    condition = length(setintersection(keys(var.extra_environment), [
      "GATEHOUSE_PUBLIC_URL", "GATEHOUSE_TABLE", "UPSTREAM_ISSUER", "UPSTREAM_CLIENT_ID", "UPSTREAM_AUTHORIZATION_ENDPOINT", "UPSTREAM_TOKEN_ENDPOINT",
      "UPSTREAM_REVOCATION_ENDPOINT", "UPSTREAM_JWKS_URI", "KMS_SIGNING_KEY_ID", "KMS_PREVIOUS_SIGNING_KEY_IDS", "KMS_SIGNING_PUBLIC_KEYS", "KMS_ENCRYPTION_KEY_ID",
      "GRANT_CACHE_TTL", "CLIENT_UNUSED_DAYS", "LOG_LEVEL", "ALLOWED_ORIGINS", "GATEHOUSE_BACKENDS", "JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN_ARN",
      "JENKINS_URL", "JENKINS_USER", "JENKINS_API_TOKEN_ARN", "CONNECTOR_WRITE_GROUPS", "CONNECTOR_ACCESS",
    ])) == 0
    error_message = "extra_environment must not set what this module sets from its own variables (CLIENT_UNUSED_DAYS: client_unused_days, GRANT_CACHE_TTL: grant_cache_ttl, LOG_LEVEL: log_level, ALLOWED_ORIGINS: allowed_origins, GATEHOUSE_BACKENDS: backends, JIRA_*: jira, JENKINS_*: jenkins, CONNECTOR_*: connector_write_groups / connector_access, and the stack's URLs, keys and table)."
  }
}

variable "client_unused_days" {
  description = "Days a dynamically registered client lives after its registration or its last grant, whichever is later, plus up to a tenth (CLIENT_UNUSED_DAYS); DynamoDB's TTL then removes it. 0 = never expire."
  type        = number
  default     = 90

  validation {
    condition     = var.client_unused_days >= 0 && var.client_unused_days <= 3650 && floor(var.client_unused_days) == var.client_unused_days
    error_message = "client_unused_days must be a whole number of days from 0 to 3650."
  }
}

variable "cookie_secret_version" {
  description = "Generation of the consent-cookie HMAC secret. Increase it to write a fresh random secret (this signs out remembered consents)."
  type        = number
  default     = 1

  validation {
    condition     = var.cookie_secret_version >= 1 && floor(var.cookie_secret_version) == var.cookie_secret_version
    error_message = "cookie_secret_version must be a positive whole number."
  }
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once, which lets a destroyed stack be re-created under the same name immediately)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "Secrets Manager accepts 0 or 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "jira" {
  description = "JIRA connector (the jira_* MCP tools): the Jira Cloud site and the service account's email. Null = not offered. Its API token goes in the secret this module creates (jira_api_token, or stored there later)."
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
  description = "JIRA API token written (write-only, never in state) into the JIRA secret. Null = the secret is created empty: store the token with `aws secretsmanager put-secret-value`; until then the jira_* tools say it is missing."
  type        = string
  default     = null
  sensitive   = true
}

variable "jenkins" {
  description = "Jenkins connector (the jenkins_* MCP tools): the Jenkins root URL and the service user. Null = not offered. Its API token goes in the secret this module creates."
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
  description = "Jenkins API token written (write-only, never in state) into the Jenkins secret. Null = the secret is created empty."
  type        = string
  default     = null
  sensitive   = true
}

variable "connector_token_version" {
  description = "Increase to write jira_api_token / jenkins_api_token again (write-only values are only sent when this changes)."
  type        = number
  default     = 1

  validation {
    condition     = var.connector_token_version >= 1 && floor(var.connector_token_version) == var.connector_token_version
    error_message = "connector_token_version must be a positive whole number."
  }
}

variable "connector_write_groups" {
  description = "Groups whose members may use the connectors' write tools (CONNECTOR_WRITE_GROUPS)."
  type        = list(string)
  default     = ["admins"]

  validation {
    condition     = length(var.connector_write_groups) > 0 && alltrue([for g in var.connector_write_groups : can(regex("^[^,\\s]+$", g))])
    error_message = "connector_write_groups needs at least one group name, each without commas or spaces."
  }
}

variable "backends" {
  description = "MCP servers behind the gateway (GATEHOUSE_BACKENDS, docs/gateway.md): name -> url, title, mode (gateway or direct), scopes, groups, per-tool rules, timeout, response limit, and optionally a static credential by ARN (secret_arn, secret_header) that the function may then read."
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

variable "connector_access" {
  description = "Group (\"*\" = everyone) → JIRA project keys and Jenkins folders it may see and touch (CONNECTOR_ACCESS). Null = no limit beyond the service accounts' own."
  type = map(object({
    jira    = optional(list(string))
    jenkins = optional(list(string))
  }))
  default = null
}
