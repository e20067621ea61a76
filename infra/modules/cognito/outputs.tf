output "cognito_user_pool_id" {
  description = "Id of the user pool (what scripts/bootstrap-users.ts takes as --pool-id)."
  value       = aws_cognito_user_pool.this.id
}

output "cognito_user_pool_arn" {
  description = "ARN of the user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "cognito_user_pool_issuer" {
  description = "OIDC issuer of the user pool (UPSTREAM_ISSUER)."
  value       = "https://${aws_cognito_user_pool.this.endpoint}"
}

output "cognito_hosted_ui_url" {
  description = "Base URL of the hosted UI / managed login domain."
  value       = local.hosted_ui
}

output "cognito_authorization_endpoint" {
  description = "Hosted UI authorization endpoint (UPSTREAM_AUTHORIZATION_ENDPOINT)."
  value       = "${local.hosted_ui}/oauth2/authorize"
}

output "cognito_token_endpoint" {
  description = "Hosted UI token endpoint (UPSTREAM_TOKEN_ENDPOINT)."
  value       = "${local.hosted_ui}/oauth2/token"
}

output "cognito_revocation_endpoint" {
  description = "Hosted UI revocation endpoint (UPSTREAM_REVOCATION_ENDPOINT)."
  value       = "${local.hosted_ui}/oauth2/revoke"
}

output "cognito_jwks_uri" {
  description = "JWKS of the user pool (UPSTREAM_JWKS_URI)."
  value       = "https://${aws_cognito_user_pool.this.endpoint}/.well-known/jwks.json"
}

output "cognito_user_pool_client_id" {
  description = "Id of gatehouse's app client (UPSTREAM_CLIENT_ID)."
  value       = aws_cognito_user_pool_client.gatehouse.id
}

output "secretsmanager_client_secret_arn" {
  description = "ARN of the Secrets Manager secret that holds the app client's secret (UPSTREAM_CLIENT_SECRET_ARN). The value itself is never an output."
  value       = aws_secretsmanager_secret_version.client.arn
}

output "cognito_group_names" {
  description = "Names of the user pool groups."
  value       = [for g in aws_cognito_user_group.this : g.name]
}
