output "lambda_function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "lambda_function_invoke_arn" {
  description = "Invoke ARN for the API Gateway integration: the alias \"live\" with provisioned concurrency, the function otherwise."
  value       = local.provisioned ? aws_lambda_alias.live[0].invoke_arn : aws_lambda_function.this.invoke_arn
}

output "lambda_function_qualifier" {
  description = "The alias API Gateway invokes (\"live\") with provisioned concurrency, null otherwise (the unqualified function)."
  value       = local.provisioned ? aws_lambda_alias.live[0].name : null
}

output "lambda_gatehouse_backends" {
  description = "The GATEHOUSE_BACKENDS value the function runs with (null without backends)."
  value       = local.backend_environment.GATEHOUSE_BACKENDS
}

output "lambda_environment" {
  description = "The environment the function runs with: settings and secret ARNs, never a secret value (extra_environment refuses secret names; tokens go to Secrets Manager)."
  value       = local.environment
}

output "iam_role_policy" {
  description = "The function role's policy document (JSON): what the function may do, and on which table, keys, secrets and log group."
  value       = jsonencode(local.role_policy)
}

output "iam_role_arn" {
  description = "ARN of the function's execution role (the only principal allowed to use the signing and encryption keys)."
  value       = aws_iam_role.this.arn
}

output "cloudwatch_log_group_name" {
  description = "Log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "secretsmanager_cookie_secret_arn" {
  description = "ARN of the secret holding the consent-cookie key (the ARN only, never the value)."
  value       = aws_secretsmanager_secret.cookie.arn
}

output "secretsmanager_jira_api_token_arn" {
  description = "Secret holding the JIRA API token (null without the JIRA connector); store the token here if jira_api_token was not given."
  value       = one(aws_secretsmanager_secret.jira_api_token[*].arn)
}

output "secretsmanager_jenkins_api_token_arn" {
  description = "Secret holding the Jenkins API token (null without the Jenkins connector)."
  value       = one(aws_secretsmanager_secret.jenkins_api_token[*].arn)
}
