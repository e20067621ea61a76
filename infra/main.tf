provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Project = "gatehouse", Deployment = var.name })
  }
}

data "aws_caller_identity" "current" {}

# Wiring without cycles: module.api creates the HTTP API first, so its URL (public_url) is known before
# the function, the Cognito callback and the JWT authorizer need it; the API's integration and routes then
# wait for the function. The keys' policies name the function's role, which exists before the keys, and the
# role's policy names the keys. Terraform orders these per resource, not per module.

module "storage" {
  source = "./modules/storage"

  name                = var.name
  deletion_protection = var.deletion_protection
  key_user_arns       = [module.function.iam_role_arn]
}

module "keys" {
  source = "./modules/keys"

  name                    = var.name
  signing_key_generations = var.signing_key_generations
  user_role_arn           = module.function.iam_role_arn
  operator_role_arns      = var.operator_role_arns
}

module "cognito" {
  source = "./modules/cognito"

  name                             = var.name
  domain_prefix                    = coalesce(var.cognito_domain_prefix, "${var.name}-${data.aws_caller_identity.current.account_id}")
  callback_urls                    = ["${module.api.public_url}/callback"]
  logout_urls                      = [module.api.public_url]
  user_pool_tier                   = var.cognito_user_pool_tier
  advanced_security_mode           = var.cognito_advanced_security_mode
  mfa_configuration                = var.cognito_mfa_configuration
  groups                           = var.cognito_groups
  identity_providers               = var.identity_providers
  identity_provider_client_secrets = var.identity_provider_client_secrets
  deletion_protection              = var.deletion_protection
}

module "function" {
  source = "./modules/function"

  name                    = var.name
  package_path            = var.lambda_package_path
  memory_size             = var.lambda_memory_size
  architecture            = var.lambda_architecture
  provisioned_concurrency = var.lambda_provisioned_concurrency
  runtime_version_arn     = var.lambda_runtime_version_arn
  timeout                 = var.lambda_timeout
  log_retention_in_days   = var.log_retention_in_days
  log_level               = var.log_level
  grant_cache_ttl         = var.grant_cache_ttl
  allowed_origins         = var.allowed_origins
  extra_environment       = var.extra_environment
  cookie_secret_version   = var.cookie_secret_version
  backends                = var.backends
  client_unused_days      = var.client_unused_days

  jira                    = var.jira
  jira_api_token          = var.jira_api_token
  jenkins                 = var.jenkins
  jenkins_api_token       = var.jenkins_api_token
  connector_token_version = var.connector_token_version
  connector_write_groups  = var.connector_write_groups
  connector_access        = var.connector_access

  public_url                = module.api.public_url
  table_name                = module.storage.dynamodb_table_name
  table_arn                 = module.storage.dynamodb_table_arn
  table_kms_key_arn         = module.storage.kms_key_arn
  signing_key_arn           = module.keys.kms_signing_key_arn
  previous_signing_key_arns = module.keys.kms_previous_signing_key_arns
  encryption_key_arn        = module.keys.kms_encryption_key_arn

  upstream_issuer            = module.cognito.cognito_user_pool_issuer
  upstream_client_id         = module.cognito.cognito_user_pool_client_id
  upstream_client_secret_arn = module.cognito.secretsmanager_client_secret_arn
  upstream_endpoints = {
    authorization = module.cognito.cognito_authorization_endpoint
    token         = module.cognito.cognito_token_endpoint
    revocation    = module.cognito.cognito_revocation_endpoint
    jwks          = module.cognito.cognito_jwks_uri
  }
}

module "api" {
  source = "./modules/api"

  name                         = var.name
  lambda_function_name         = module.function.lambda_function_name
  lambda_function_invoke_arn   = module.function.lambda_function_invoke_arn
  lambda_function_qualifier    = module.function.lambda_function_qualifier
  domain_name                  = var.domain_name
  certificate_arn              = var.certificate_arn
  route53_zone_id              = var.route53_zone_id
  throttling_rate_limit        = var.throttling_rate_limit
  throttling_burst_limit       = var.throttling_burst_limit
  access_log_retention_in_days = var.log_retention_in_days
  jwt_authorizer_enabled       = var.jwt_authorizer_enabled
  backend_names                = [for name, backend in var.backends : name if backend.mode == "gateway"]
}
