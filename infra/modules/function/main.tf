data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# The signing keys' public halves, read by Terraform and delivered in the environment (KMS_SIGNING_PUBLIC_KEYS),
# so a cold start verifies tokens without a KMS call or a KMS client (issue 17). count, not for_each: the
# key ARNs are unknown until the keys exist, their number is not.
data "aws_kms_public_key" "signing" {
  count  = length(local.signing_keys)
  key_id = local.signing_keys[count.index]
}

locals {
  # path.module is modules/function under the infra/ root, so this is <repo>/dist/lambda.zip.
  package_path  = coalesce(var.package_path, "${path.module}/../../../dist/lambda.zip")
  signing_keys  = concat([var.signing_key_arn], var.previous_signing_key_arns)
  log_group_arn = aws_cloudwatch_log_group.this.arn

  managed_environment = {
    GATEHOUSE_PUBLIC_URL            = var.public_url
    GATEHOUSE_TABLE                 = var.table_name
    UPSTREAM_ISSUER                 = var.upstream_issuer
    UPSTREAM_CLIENT_ID              = var.upstream_client_id
    UPSTREAM_CLIENT_SECRET_ARN      = var.upstream_client_secret_arn
    UPSTREAM_AUTHORIZATION_ENDPOINT = var.upstream_endpoints.authorization
    UPSTREAM_TOKEN_ENDPOINT         = var.upstream_endpoints.token
    UPSTREAM_REVOCATION_ENDPOINT    = var.upstream_endpoints.revocation
    UPSTREAM_JWKS_URI               = var.upstream_endpoints.jwks
    KMS_SIGNING_KEY_ID              = var.signing_key_arn
    KMS_PREVIOUS_SIGNING_KEY_IDS    = join(",", var.previous_signing_key_arns)
    KMS_SIGNING_PUBLIC_KEYS         = jsonencode(zipmap(local.signing_keys, data.aws_kms_public_key.signing[*].public_key))
    KMS_ENCRYPTION_KEY_ID           = var.encryption_key_arn
    COOKIE_SECRET_ARN               = aws_secretsmanager_secret.cookie.arn
    GRANT_CACHE_TTL                 = tostring(var.grant_cache_ttl)
    CLIENT_UNUSED_DAYS              = tostring(var.client_unused_days)
    LOG_LEVEL                       = var.log_level
    ALLOWED_ORIGINS                 = join(",", var.allowed_origins)
  }
  # The connectors exist only when configured: their settings, secrets and IAM grants come with them.
  connectors_configured = var.jira != null || var.jenkins != null
  connector_secret_arns = concat(aws_secretsmanager_secret.jira_api_token[*].arn, aws_secretsmanager_secret.jenkins_api_token[*].arn)
  connector_environment = {
    JIRA_BASE_URL          = try(var.jira.base_url, null)
    JIRA_EMAIL             = try(var.jira.email, null)
    JIRA_API_TOKEN_ARN     = one(aws_secretsmanager_secret.jira_api_token[*].arn)
    JENKINS_URL            = try(var.jenkins.url, null)
    JENKINS_USER           = try(var.jenkins.user, null)
    JENKINS_API_TOKEN_ARN  = one(aws_secretsmanager_secret.jenkins_api_token[*].arn)
    CONNECTOR_WRITE_GROUPS = local.connectors_configured ? join(",", var.connector_write_groups) : null
    # optional() attributes arrive as null; config.ts expects them absent.
    CONNECTOR_ACCESS = local.connectors_configured && var.connector_access != null ? jsonencode({ for g, e in var.connector_access : g => { for k, v in e : k => v if v != null } }) : null
  }
  # GATEHOUSE_BACKENDS as config.ts reads it: camelCase fields, absent rather than null. Each attribute is
  # encoded on its own so the object's mixed types need no common type.
  backend_json = { for name, b in var.backends : name => "{${join(",", [for k, v in {
    url              = jsonencode(b.url)
    title            = b.title == null ? null : jsonencode(b.title)
    mode             = jsonencode(b.mode)
    scopes           = b.scopes == null ? null : jsonencode(b.scopes)
    groups           = b.groups == null ? null : jsonencode(b.groups)
    tools            = b.tools == null ? null : jsonencode({ for tool, rule in b.tools : tool => { for field, value in rule : field => value if value != null } })
    timeoutMs        = b.timeout_ms == null ? null : jsonencode(b.timeout_ms)
    maxResponseBytes = b.max_response_bytes == null ? null : jsonencode(b.max_response_bytes)
    auth             = b.secret_arn == null ? null : jsonencode({ for field, value in { type = "secret", secretArn = b.secret_arn, header = b.secret_header } : field => value if value != null })
  } : "${jsonencode(k)}:${v}" if v != null])}}" }
  backend_environment = {
    GATEHOUSE_BACKENDS = length(var.backends) == 0 ? null : "{${join(",", [for name, json in local.backend_json : "${jsonencode(name)}:${json}"])}}"
  }
  backend_secret_arns = [for b in values(var.backends) : b.secret_arn if b.secret_arn != null]
  # Lambda rejects null values; config.ts treats an empty variable as unset.
  environment = { for k, v in merge(var.extra_environment, local.managed_environment, local.connector_environment, local.backend_environment) : k => v if v != null && v != "" }

  assume_role_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumesRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  }

  # Least privilege: this table, these keys, these two secrets, this log group. Cognito's RevokeToken is not
  # here on purpose: it is authorised by the app client secret and Cognito evaluates no IAM policy for it.
  role_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TableItems"
        Effect = "Allow"
        Action = ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        # The index: a user's grants (the connected-apps page).
        Resource = [var.table_arn, "${var.table_arn}/index/byUser"]
      },
      {
        Sid       = "TableKeyThroughDynamoDB"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource  = [var.table_kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${data.aws_region.current.name}.amazonaws.com" } }
      },
      {
        Sid      = "SignAccessTokens"
        Effect   = "Allow"
        Action   = ["kms:GetPublicKey", "kms:Sign"]
        Resource = local.signing_keys
      },
      {
        Sid      = "EnvelopeEncryptUpstreamTokens"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.encryption_key_arn]
      },
      {
        Sid      = "ReadSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = concat([var.upstream_client_secret_arn, aws_secretsmanager_secret.cookie.arn], local.connector_secret_arns, local.backend_secret_arns)
      },
      {
        Sid    = "WriteLogs"
        Effect = "Allow"
        Action = ["logs:CreateLogStream", "logs:PutLogEvents"]
        # Log streams are addressed as <log group ARN>:log-stream:<name>; AWS needs the trailing wildcard.
        Resource = ["${local.log_group_arn}:*"]
      },
    ]
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-function"
  assume_role_policy = jsonencode(local.assume_role_policy)
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "gatehouse"
  role   = aws_iam_role.this.id
  policy = jsonencode(local.role_policy)
}

resource "aws_secretsmanager_secret" "cookie" {
  name_prefix             = "${var.name}/cookie-secret-"
  description             = "gatehouse: HMAC key for consent cookies (COOKIE_SECRET_ARN)"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = var.tags
}

# Generated by Secrets Manager, written write-only. Mock providers cannot yet stand in for ephemeral
# resources, so this is the data source; a copy of a random value sits in state until the next refresh.
data "aws_secretsmanager_random_password" "cookie" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "cookie" {
  secret_id                = aws_secretsmanager_secret.cookie.id
  secret_string_wo         = data.aws_secretsmanager_random_password.cookie.random_password
  secret_string_wo_version = var.cookie_secret_version
}

# The connectors' service-account API tokens: created with the connector, empty unless the token is given
# (the app reads it on first use and says it is missing until then); written write-only, so never in state.
resource "aws_secretsmanager_secret" "jira_api_token" {
  count                   = var.jira == null ? 0 : 1
  name_prefix             = "${var.name}/jira-api-token-"
  description             = "gatehouse: JIRA service account API token (JIRA_API_TOKEN_ARN)"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "jira_api_token" {
  count                    = var.jira != null && var.jira_api_token != null ? 1 : 0
  secret_id                = aws_secretsmanager_secret.jira_api_token[0].id
  secret_string_wo         = var.jira_api_token
  secret_string_wo_version = var.connector_token_version
}

resource "aws_secretsmanager_secret" "jenkins_api_token" {
  count                   = var.jenkins == null ? 0 : 1
  name_prefix             = "${var.name}/jenkins-api-token-"
  description             = "gatehouse: Jenkins service user API token (JENKINS_API_TOKEN_ARN)"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "jenkins_api_token" {
  count                    = var.jenkins != null && var.jenkins_api_token != null ? 1 : 0
  secret_id                = aws_secretsmanager_secret.jenkins_api_token[0].id
  secret_string_wo         = var.jenkins_api_token
  secret_string_wo_version = var.connector_token_version
}

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  description                    = "gatehouse: OAuth 2.1 authorization server and MCP resource server"
  role                           = aws_iam_role.this.arn
  filename                       = local.package_path
  source_code_hash               = filebase64sha256(local.package_path)
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  # Provisioned concurrency needs a published version; without it nothing is published (no version pile-up).
  publish = local.provisioned

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  # The role's policy must exist before the first invocation can reach the table, keys and secrets.
  depends_on = [aws_iam_role_policy.this]
}

# The bundle's V8 code cache is used only on the V8 build it was made for; the runtime's own patch updates
# can change that build, and the cache then goes unused (the function says so in one warning at init).
# Pinning the runtime version keeps the cache in use, at the price of taking runtime security patches only
# when runtime_version_arn is moved (docs/deploy.md). Without it, AWS updates the runtime (Auto).
resource "aws_lambda_runtime_management_config" "this" {
  count               = var.runtime_version_arn == null ? 0 : 1
  function_name       = aws_lambda_function.this.function_name
  update_runtime_on   = "Manual"
  runtime_version_arn = var.runtime_version_arn
}

locals {
  provisioned = var.provisioned_concurrency > 0
}

# Warm environments for the latency-sensitive path: API Gateway invokes the alias, which always points at
# the version this apply published, and Lambda keeps var.provisioned_concurrency environments of it initialised.
resource "aws_lambda_alias" "live" {
  count            = local.provisioned ? 1 : 0
  name             = "live"
  description      = "The version API Gateway invokes (provisioned concurrency is configured on it)."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count                             = local.provisioned ? 1 : 0
  function_name                     = aws_lambda_function.this.function_name
  qualifier                         = aws_lambda_alias.live[0].name
  provisioned_concurrent_executions = var.provisioned_concurrency
}
