output "mcp_url" {
  description = "The MCP server URL: paste it into Claude (Settings > Connectors), VS Code or any MCP client."
  value       = module.api.mcp_url
}

output "resource_urls" {
  description = "Every protected resource URL clients may use: /mcp and each gateway backend's /mcp/<name>."
  value       = module.api.resource_urls
}

output "issuer" {
  description = "gatehouse's issuer (the iss of its tokens and the base of its discovery documents)."
  value       = module.api.public_url
}

output "cognito_hosted_ui_domain" {
  description = "Cognito hosted UI / managed login domain where users sign in."
  value       = module.cognito.cognito_hosted_ui_url
}

output "cognito_user_pool_id" {
  description = "Cognito user pool id, for scripts/bootstrap-users.ts --pool-id."
  value       = module.cognito.cognito_user_pool_id
}

output "dynamodb_table_name" {
  description = "DynamoDB table holding clients, grants and tokens."
  value       = module.storage.dynamodb_table_name
}

output "lambda_function_name" {
  description = "Name of the gatehouse Lambda function (logs: /aws/lambda/<name>)."
  value       = module.function.lambda_function_name
}

output "region" {
  description = "Region gatehouse runs in."
  value       = var.region
}

output "jira_api_token_secret_arn" {
  description = "Secrets Manager secret for the JIRA API token (null without the JIRA connector): store the token here if jira_api_token was not given. The ARN only, never the value."
  value       = module.function.secretsmanager_jira_api_token_arn
}

output "jenkins_api_token_secret_arn" {
  description = "Secrets Manager secret for the Jenkins API token (null without the Jenkins connector). The ARN only, never the value."
  value       = module.function.secretsmanager_jenkins_api_token_arn
}
