# The JIRA and Jenkins connectors in the function module: absent by default (no secret, no setting, no
# grant); configured, each gets its secret (empty unless a token is given), its settings by ARN, and a
# read grant on exactly that secret.
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks/aws"
}

variables {
  name                       = "gatehouse"
  package_path               = "tests/fixtures/lambda.zip"
  public_url                 = "https://abc123.execute-api.eu-west-1.amazonaws.com"
  table_name                 = "gatehouse"
  table_arn                  = "arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse"
  table_kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/table"
  signing_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"
  previous_signing_key_arns  = ["arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111"]
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
}

run "connectors_absent_by_default" {
  command = plan
  module {
    source = "./modules/function"
  }

  assert {
    condition     = length(aws_secretsmanager_secret.jira_api_token) == 0 && length(aws_secretsmanager_secret.jenkins_api_token) == 0
    error_message = "no connector secret without a connector"
  }
  assert {
    condition     = length([for k in keys(aws_lambda_function.this.environment[0].variables) : k if startswith(k, "JIRA_") || startswith(k, "JENKINS_") || startswith(k, "CONNECTOR_")]) == 0
    error_message = "no connector setting"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadSecrets"][0]) == 2
    error_message = "the function reads only the upstream client secret and the cookie secret"
  }
}

run "connectors_configured_get_their_secrets_settings_and_grants" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    jira             = { base_url = "https://example.atlassian.net", email = "svc@example.com" }
    jira_api_token   = "a-jira-token"
    jenkins          = { url = "https://ci.example.com", user = "svc-gatehouse" }
    connector_access = { admins = { jira = ["*"], jenkins = ["*"] }, "*" = { jira = ["PUB"] } }
  }

  assert {
    condition     = length(aws_secretsmanager_secret.jira_api_token) == 1 && length(aws_secretsmanager_secret.jenkins_api_token) == 1
    error_message = "one secret per configured connector"
  }
  assert {
    condition     = length(aws_secretsmanager_secret_version.jira_api_token) == 1 && length(aws_secretsmanager_secret_version.jenkins_api_token) == 0
    error_message = "a version only for the token given; the Jenkins secret is created empty"
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["JIRA_BASE_URL"] == "https://example.atlassian.net"
      && aws_lambda_function.this.environment[0].variables["JIRA_EMAIL"] == "svc@example.com"
      && startswith(aws_lambda_function.this.environment[0].variables["JIRA_API_TOKEN_ARN"], "arn:aws:secretsmanager:")
      && aws_lambda_function.this.environment[0].variables["JENKINS_URL"] == "https://ci.example.com"
      && aws_lambda_function.this.environment[0].variables["JENKINS_USER"] == "svc-gatehouse"
      && aws_lambda_function.this.environment[0].variables["CONNECTOR_WRITE_GROUPS"] == "admins"
    && jsondecode(aws_lambda_function.this.environment[0].variables["CONNECTOR_ACCESS"]) == jsondecode("{\"*\":{\"jira\":[\"PUB\"]},\"admins\":{\"jenkins\":[\"*\"],\"jira\":[\"*\"]}}"))
    error_message = "settings by ARN, access map without null attributes"
  }
  assert {
    condition     = !contains(values(aws_lambda_function.this.environment[0].variables), "a-jira-token")
    error_message = "the token never enters the environment"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadSecrets"][0]) == 4
    error_message = "read grants on the two connector secrets as well"
  }
}

run "connectors_reject_plain_http" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    jenkins = { url = "http://ci.internal", user = "svc" }
  }
  expect_failures = [var.jenkins]
}

run "client_unused_days_becomes_client_unused_days_and_is_bounded" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    client_unused_days = 0
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["CLIENT_UNUSED_DAYS"] == "0"
    error_message = "0 (never expire) reaches the function"
  }
}

run "function_refuses_a_setting_it_manages_in_extra_environment" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    # Before client_unused_days this was the way to set it; now the variable's value would silently win.
    extra_environment = { CLIENT_UNUSED_DAYS = "30", SCOPES = "mcp:read" }
  }

  expect_failures = [var.extra_environment]
}

run "function_rejects_client_unused_days_out_of_range" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    client_unused_days = -1
  }

  expect_failures = [var.client_unused_days]
}
