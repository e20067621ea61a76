# The whole stack, planned against a mock AWS provider: no account, no network.
mock_provider "aws" {
  # Plan-time assertions need computed attributes (ARNs, the API endpoint) known during plan.
  override_during = plan
  source          = "./tests/mocks/aws"
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

run "root_provisioned_concurrency_routes_api_gateway_to_the_warm_alias" {
  command = plan

  variables {
    lambda_provisioned_concurrency = 1
  }

  assert {
    condition     = module.function.lambda_function_qualifier == "live" && endswith(module.function.lambda_function_invoke_arn, ":function:gatehouse:live/invocations")
    error_message = "with provisioned concurrency the function module hands API Gateway the alias"
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
