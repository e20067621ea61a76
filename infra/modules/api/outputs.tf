output "api_gateway_api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_gateway_api_endpoint" {
  description = "Default endpoint of the HTTP API (https://<id>.execute-api.<region>.amazonaws.com)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "public_url" {
  description = "gatehouse's public base URL: the custom domain if set, else the API's default endpoint. It is the token issuer (GATEHOUSE_PUBLIC_URL)."
  value       = local.public_url
}

output "mcp_url" {
  description = "The MCP server URL to give Claude, VS Code and other MCP clients; also the audience of every access token."
  value       = local.mcp_url
}

output "resource_urls" {
  description = "Every protected resource this API serves (/mcp and each gateway backend's /mcp/<name>): the JWT authorizer's audiences."
  value       = local.resource_urls
}

output "api_gateway_authorizer_id" {
  description = "Id of the JWT authorizer on POST /mcp (null when disabled)."
  value       = one(aws_apigatewayv2_authorizer.mcp[*].id)
}

output "cloudwatch_access_log_group_name" {
  description = "Log group of the API's access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "api_gateway_domain_target" {
  description = "Where a DNS alias for domain_name must point (null without a custom domain)."
  value = var.domain_name == null ? null : {
    target_domain_name = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    hosted_zone_id     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
  }
}
