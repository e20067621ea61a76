# The whole stack, planned against a mock AWS provider: no account, no network.
mock_provider "aws" {
  # Plan-time assertions need computed attributes (ARNs, the API endpoint) known during plan.
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "abc123"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/gatehouse-function" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse" }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000"
      key_id = "00000000-0000-4000-8000-000000000000"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id       = "eu-west-1_Example"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    }
  }
  mock_resource "aws_cognito_user_pool_client" {
    defaults = { id = "exampleclientid" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/cookie-secret-AbCdEf" }
  }
  mock_resource "aws_secretsmanager_secret_version" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/cognito-client-secret-AbCdEf" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/gatehouse" }
  }
  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = { id = "auth01" }
  }
  mock_resource "aws_apigatewayv2_integration" {
    defaults = { id = "integ01" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:gatehouse"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse/invocations"
    }
  }
}

variables {
  region              = "eu-west-1"
  lambda_package_path = "tests/fixtures/lambda.zip"
}

run "root_wires_mcp_url_issuer_and_outputs_without_a_cycle" {
  command = plan

  assert {
    condition     = output.mcp_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp"
    error_message = "mcp_url must be the API's endpoint + /mcp, got ${output.mcp_url}"
  }
  assert {
    condition     = output.issuer == "https://abc123.execute-api.eu-west-1.amazonaws.com"
    error_message = "issuer must be the API's endpoint with no path or trailing slash"
  }
  assert {
    condition     = output.cognito_hosted_ui_domain == "https://gatehouse-123456789012.auth.eu-west-1.amazoncognito.com"
    error_message = "the hosted UI domain defaults to <name>-<account id>"
  }
  assert {
    condition     = output.dynamodb_table_name == "gatehouse" && output.lambda_function_name == "gatehouse"
    error_message = "table and function are named after var.name"
  }
}

run "root_custom_domain_becomes_the_issuer" {
  command = plan

  variables {
    domain_name     = "mcp.example.com"
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555"
  }

  assert {
    condition     = output.issuer == "https://mcp.example.com" && output.mcp_url == "https://mcp.example.com/mcp"
    error_message = "with a custom domain the issuer and MCP URL use it"
  }
}

run "root_rejects_a_bad_region" {
  command = plan

  variables {
    region = "Europe"
  }

  expect_failures = [var.region]
}

run "root_rejects_a_bad_name" {
  command = plan

  variables {
    name = "Gate_House"
  }

  expect_failures = [var.name]
}
