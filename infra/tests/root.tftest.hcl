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

# The connectors and CLIENT_UNUSED_DAYS through the root module, as `make deploy` users set them.
run "root_without_connectors_has_no_connector_setting_secret_or_grant" {
  command = plan

  assert {
    condition     = length([for k in keys(module.function.lambda_environment) : k if startswith(k, "JIRA_") || startswith(k, "JENKINS_") || startswith(k, "CONNECTOR_")]) == 0
    error_message = "no connector setting in the function's environment"
  }
  assert {
    condition     = output.jira_api_token_secret_arn == null && output.jenkins_api_token_secret_arn == null
    error_message = "no connector secret"
  }
  assert {
    condition     = length([for s in jsondecode(module.function.iam_role_policy).Statement : s.Resource if s.Sid == "ReadSecrets"][0]) == 2
    error_message = "the function reads only the upstream client secret and the cookie secret"
  }
  assert {
    condition     = module.function.lambda_environment["CLIENT_UNUSED_DAYS"] == "90"
    error_message = "CLIENT_UNUSED_DAYS is config.ts's default, 90, unless client_unused_days says otherwise"
  }
}

run "root_connectors_reach_the_function_with_their_secrets_and_grants" {
  command = plan

  variables {
    jira                   = { base_url = "https://example.atlassian.net", email = "svc@example.com" }
    jira_api_token         = "a-jira-token"
    jenkins                = { url = "https://ci.example.com/jenkins", user = "svc-gatehouse" }
    jenkins_api_token      = "a-jenkins-token"
    connector_write_groups = ["admins", "release"]
    connector_access       = { engineering = { jira = ["ENG"], jenkins = ["eng"] }, "*" = { jira = ["PUB"] } }
    client_unused_days     = 30
  }

  assert {
    condition = (module.function.lambda_environment["JIRA_BASE_URL"] == "https://example.atlassian.net"
      && module.function.lambda_environment["JIRA_EMAIL"] == "svc@example.com"
      && module.function.lambda_environment["JIRA_API_TOKEN_ARN"] == output.jira_api_token_secret_arn
      && module.function.lambda_environment["JENKINS_URL"] == "https://ci.example.com/jenkins"
      && module.function.lambda_environment["JENKINS_USER"] == "svc-gatehouse"
      && module.function.lambda_environment["JENKINS_API_TOKEN_ARN"] == output.jenkins_api_token_secret_arn
    && module.function.lambda_environment["CONNECTOR_WRITE_GROUPS"] == "admins,release")
    error_message = "each connector setting reaches the function, its token by the ARN of its secret"
  }
  assert {
    condition     = jsondecode(module.function.lambda_environment["CONNECTOR_ACCESS"]) == jsondecode("{\"*\":{\"jira\":[\"PUB\"]},\"engineering\":{\"jenkins\":[\"eng\"],\"jira\":[\"ENG\"]}}")
    error_message = "CONNECTOR_ACCESS is the map as config.ts reads it (no null attributes)"
  }
  assert {
    condition     = startswith(output.jira_api_token_secret_arn, "arn:aws:secretsmanager:") && startswith(output.jenkins_api_token_secret_arn, "arn:aws:secretsmanager:")
    error_message = "a secret per connector, its ARN an output"
  }
  assert {
    condition     = !contains(values(module.function.lambda_environment), "a-jira-token") && !contains(values(module.function.lambda_environment), "a-jenkins-token")
    error_message = "the tokens never enter the environment"
  }
  assert {
    condition = toset([for s in jsondecode(module.function.iam_role_policy).Statement : s.Resource if s.Sid == "ReadSecrets"][0]) == toset([
      module.cognito.secretsmanager_client_secret_arn, module.function.secretsmanager_cookie_secret_arn, output.jira_api_token_secret_arn, output.jenkins_api_token_secret_arn,
    ])
    error_message = "the function may read the two connector secrets as well, and nothing more"
  }
  assert {
    condition     = module.function.lambda_environment["CLIENT_UNUSED_DAYS"] == "30"
    error_message = "client_unused_days becomes CLIENT_UNUSED_DAYS"
  }
}

run "root_rejects_bad_connector_and_client_lifetime_settings" {
  command = plan

  variables {
    jira                    = { base_url = "http://jira.internal", email = "svc@example.com" }
    jenkins                 = { url = "https://ci.example.com", user = "" }
    connector_write_groups  = ["admins,release"]
    connector_token_version = 0
    client_unused_days      = 3651
  }

  expect_failures = [var.jira, var.jenkins, var.connector_write_groups, var.connector_token_version, var.client_unused_days]
}
