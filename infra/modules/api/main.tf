locals {
  # The issuer and audience need the public URL, which must not wait for the function (the function's
  # environment needs it too). A custom domain is known up front; otherwise the API's default endpoint is
  # known as soon as aws_apigatewayv2_api.this exists, before the function, integration and routes.
  public_url = var.domain_name != null ? "https://${var.domain_name}" : aws_apigatewayv2_api.this.api_endpoint
  mcp_url    = "${local.public_url}/mcp"

  # Every gatehouse route except POST /mcp, which carries the JWT authorizer.
  public_routes = toset([
    "GET /.well-known/oauth-authorization-server",
    "GET /.well-known/openid-configuration",
    "GET /.well-known/oauth-protected-resource",
    "GET /.well-known/oauth-protected-resource/mcp",
    "GET /jwks.json",
    "POST /register",
    "GET /authorize",
    "POST /authorize/consent",
    "GET /callback",
    "GET /account",
    "POST /account/revoke",
    "POST /token",
    "POST /introspect",
    "POST /revoke",
    "GET /mcp",
    "DELETE /mcp",
    "GET /healthz",
  ])
  # CORS preflights go to gatehouse, which answers them only for the cross-origin endpoints and allowed
  # origins. The browser routes (/authorize, /authorize/consent, /callback) get no OPTIONS route: RFC 9700
  # §2.6 says the authorization endpoint must not support CORS. The API has no cors_configuration, since
  # API Gateway would then answer every preflight itself, the browser routes' included.
  preflight_routes = toset([for path in [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/jwks.json",
    "/register",
    "/token",
    "/introspect",
    "/revoke",
    "/mcp",
  ] : "OPTIONS ${path}"])
  # The gateway: one route per method for every backend name (gatehouse answers 404 for an unknown one).
  gateway_routes = length(var.backend_names) == 0 ? toset([]) : toset([
    "GET /mcp/{name}",
    "DELETE /mcp/{name}",
    "GET /.well-known/oauth-protected-resource/mcp/{name}",
    "OPTIONS /mcp/{name}",
    "OPTIONS /.well-known/oauth-protected-resource/mcp/{name}",
  ])
  # Every resource this API serves: /mcp and each gateway backend's /mcp/<name>.
  resource_urls          = concat([local.mcp_url], [for name in var.backend_names : "${local.mcp_url}/${name}"])
  oauth_throttled_routes = toset(["POST /register", "POST /token", "GET /authorize", "POST /authorize/consent", "POST /account/revoke"])
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = "gatehouse: OAuth 2.1 authorization server and MCP endpoint"
  protocol_type = "HTTP"

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.lambda_function_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000

  # A new target (the alias, when provisioned concurrency is turned on) must be invokable before it is used.
  depends_on = [aws_lambda_permission.api, aws_lambda_permission.api_alias]
}

# API Gateway checks the token's signature (from gatehouse's /jwks.json via its discovery document), iss,
# aud and exp before invoking the function; gatehouse verifies it again, scopes and revocation included.
resource "aws_apigatewayv2_authorizer" "mcp" {
  count = var.jwt_authorizer_enabled ? 1 : 0

  api_id           = aws_apigatewayv2_api.this.id
  name             = "gatehouse-mcp-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.public_url
    audience = local.resource_urls
  }
}

resource "aws_apigatewayv2_route" "this" {
  for_each = setunion(local.public_routes, local.preflight_routes, local.gateway_routes)

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_route" "mcp" {
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "POST /mcp"
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = var.jwt_authorizer_enabled ? "JWT" : "NONE"
  authorizer_id      = var.jwt_authorizer_enabled ? aws_apigatewayv2_authorizer.mcp[0].id : null
}

resource "aws_apigatewayv2_route" "gateway" {
  count = length(var.backend_names) == 0 ? 0 : 1

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "POST /mcp/{name}"
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = var.jwt_authorizer_enabled ? "JWT" : "NONE"
  authorizer_id      = var.jwt_authorizer_enabled ? aws_apigatewayv2_authorizer.mcp[0].id : null
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.access_log_retention_in_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  dynamic "route_settings" {
    for_each = local.oauth_throttled_routes
    content {
      route_key              = route_settings.value
      throttling_rate_limit  = var.oauth_throttling_rate_limit
      throttling_burst_limit = max(1, ceil(var.oauth_throttling_rate_limit * 2))
    }
  }

  # No query strings or headers: /authorize and /callback carry codes and state in the query string.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
    })
  }

  tags = var.tags

  # route_settings may only name routes that exist.
  depends_on = [aws_apigatewayv2_route.this, aws_apigatewayv2_route.mcp]
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = local.invoke_source_arn
}

locals {
  # Any stage, method and path of this one API (the resource-policy form API Gateway documents).
  invoke_source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*"
}

# With provisioned concurrency the integration invokes the alias, which has its own resource policy. The
# unqualified permission above stays, so turning the alias on or off adds or removes this one and replaces nothing.
resource "aws_lambda_permission" "api_alias" {
  count         = var.lambda_function_qualifier == null ? 0 : 1
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_function_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = local.invoke_source_arn
}

resource "aws_apigatewayv2_domain_name" "this" {
  count = var.domain_name == null ? 0 : 1

  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = var.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.certificate_arn != null
      error_message = "certificate_arn is required when domain_name is set."
    }
  }
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = var.domain_name == null ? 0 : 1

  api_id      = aws_apigatewayv2_api.this.id
  domain_name = aws_apigatewayv2_domain_name.this[0].id
  stage       = aws_apigatewayv2_stage.default.id
}

resource "aws_route53_record" "this" {
  count = var.domain_name != null && var.route53_zone_id != null ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
