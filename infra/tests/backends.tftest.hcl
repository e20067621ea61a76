# The gateway's backends (GATEHOUSE_BACKENDS, issue 14): the variable reaches the function as the JSON
# config.ts reads, a static credential's secret becomes readable by the function, the API routes
# /mcp/{name} (POST behind the JWT authorizer) and its metadata, and the authorizer accepts every resource URL.
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks/aws"
}

variables {
  name                       = "gatehouse"
  region                     = "eu-west-1"
  lambda_package_path        = "tests/fixtures/lambda.zip"
  package_path               = "tests/fixtures/lambda.zip"
  public_url                 = "https://abc123.execute-api.eu-west-1.amazonaws.com"
  table_name                 = "gatehouse"
  table_arn                  = "arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse"
  table_kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/table"
  signing_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"
  previous_signing_key_arns  = []
  encryption_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/enc"
  upstream_issuer            = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
  upstream_client_id         = "exampleclientid"
  upstream_client_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/cognito-client-secret-AbCdEf"
  upstream_endpoints = {
    authorization = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
    token         = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/token"
    revocation    = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/revoke"
    jwks          = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example/.well-known/jwks.json"
  }
  lambda_function_name       = "gatehouse"
  lambda_function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse/invocations"
  backends = {
    everything = { url = "https://everything.internal.example/mcp", title = "Everything", tools = { "get-env" = { groups = ["admins"] } }, timeout_ms = 5000 }
    jira       = { url = "https://jira-mcp.internal.example/mcp", scopes = ["mcp:read"], secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jira-mcp-key-AbCdEf", secret_header = "x-api-key" }
    team       = { url = "https://team.example/mcp", mode = "direct" }
  }
  backend_names = ["everything", "jira"]
}

run "backends_reach_the_function_as_gatehouse_backends_json" {
  command = plan
  module {
    source = "./modules/function"
  }

  assert {
    condition = jsondecode(aws_lambda_function.this.environment[0].variables.GATEHOUSE_BACKENDS) == {
      everything = { url = "https://everything.internal.example/mcp", title = "Everything", mode = "gateway", tools = { "get-env" = { groups = ["admins"] } }, timeoutMs = 5000 }
      jira       = { url = "https://jira-mcp.internal.example/mcp", mode = "gateway", scopes = ["mcp:read"], auth = { type = "secret", secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jira-mcp-key-AbCdEf", header = "x-api-key" } }
      team       = { url = "https://team.example/mcp", mode = "direct" }
    }
    error_message = "GATEHOUSE_BACKENDS must carry every backend with camelCase fields and no nulls, got ${aws_lambda_function.this.environment[0].variables.GATEHOUSE_BACKENDS}"
  }
  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadSecrets"][0], "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jira-mcp-key-AbCdEf")
    error_message = "the function may read a backend's static credential"
  }
}

run "no_backends_no_setting" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    backends = {}
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "GATEHOUSE_BACKENDS")
    error_message = "no GATEHOUSE_BACKENDS without backends"
  }
}

run "api_routes_mcp_name_behind_the_authorizer_with_every_resource_as_audience" {
  command = plan
  module {
    source = "./modules/api"
  }

  assert {
    condition     = aws_apigatewayv2_route.gateway[0].route_key == "POST /mcp/{name}" && aws_apigatewayv2_route.gateway[0].authorization_type == "JWT"
    error_message = "POST /mcp/{name} passes the JWT authorizer"
  }
  assert {
    condition     = alltrue([for key in ["GET /mcp/{name}", "DELETE /mcp/{name}", "GET /.well-known/oauth-protected-resource/mcp/{name}", "OPTIONS /mcp/{name}"] : contains(keys(aws_apigatewayv2_route.this), key)])
    error_message = "GET, DELETE, OPTIONS /mcp/{name} and the backends' metadata are routed"
  }
  assert {
    condition     = one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).audience == toset(["https://abc123.execute-api.eu-west-1.amazonaws.com/mcp", "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp/everything", "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp/jira"])
    error_message = "the authorizer's audiences are /mcp and every gateway backend's resource URL"
  }
}

run "api_without_backends_keeps_one_audience_and_no_gateway_route" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    backend_names = []
  }

  assert {
    condition     = length(aws_apigatewayv2_route.gateway) == 0 && !contains(keys(aws_apigatewayv2_route.this), "GET /mcp/{name}")
    error_message = "no gateway routes without backends"
  }
  assert {
    condition     = one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).audience == toset(["https://abc123.execute-api.eu-west-1.amazonaws.com/mcp"])
    error_message = "only /mcp"
  }
}

run "root_passes_backends_to_the_function_and_gateway_names_to_the_api" {
  command = plan

  assert {
    condition     = output.resource_urls == ["https://abc123.execute-api.eu-west-1.amazonaws.com/mcp", "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp/everything", "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp/jira"]
    error_message = "the API serves /mcp and the gateway backends (not the direct one), got ${jsonencode(output.resource_urls)}"
  }
  assert {
    condition     = keys(jsondecode(module.function.lambda_gatehouse_backends)) == ["everything", "jira", "team"]
    error_message = "the function gets every backend, the direct one included"
  }
}

run "root_rejects_a_bad_backend_name" {
  command = plan
  variables {
    backends = { "Bad_Name" = { url = "https://x.example/mcp" } }
  }
  expect_failures = [var.backends]
}

run "root_rejects_a_plain_http_backend" {
  command = plan
  variables {
    backends = { ok = { url = "http://x.example/mcp" } }
  }
  expect_failures = [var.backends]
}
