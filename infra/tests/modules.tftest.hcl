# Each module planned on its own against a mock AWS provider, so assertions can read its resources.
mock_provider "aws" {
  # Plan-time assertions need computed attributes (ARNs, the API endpoint) known during plan.
  override_during = plan
  source          = "./tests/mocks/aws"
}

variables {
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
  }
  user_role_arn              = "arn:aws:iam::123456789012:role/gatehouse-function"
  lambda_function_name       = "gatehouse"
  lambda_function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse/invocations"
  domain_prefix              = "gatehouse-test"
  callback_urls              = ["https://abc123.execute-api.eu-west-1.amazonaws.com/callback"]
  logout_urls                = ["https://abc123.execute-api.eu-west-1.amazonaws.com"]
}

# ---- storage ----

run "storage_table_has_ttl_pitr_and_customer_key_encryption" {
  command = plan
  module {
    source = "./modules/storage"
  }
  variables {
    name          = "gatehouse"
    key_user_arns = ["arn:aws:iam::123456789012:role/gatehouse-function"]
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk"
    error_message = "on-demand table keyed by pk/sk"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.ttl).enabled && one(aws_dynamodb_table.this.ttl).attribute_name == "expiresAt"
    error_message = "TTL must be enabled on expiresAt"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.global_secondary_index).name == "byUser" && one(aws_dynamodb_table.this.global_secondary_index).hash_key == "gsi1pk" && one(aws_dynamodb_table.this.global_secondary_index).range_key == "gsi1sk" && one(aws_dynamodb_table.this.global_secondary_index).projection_type == "ALL"
    error_message = "the byUser index the store queries (src/store/keys.ts USER_INDEX)"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.point_in_time_recovery).enabled
    error_message = "point-in-time recovery must be on"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).enabled && one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == aws_kms_key.table[0].arn
    error_message = "SSE must use the module's customer-managed key"
  }
  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion protection defaults on"
  }
  assert {
    condition     = aws_kms_key.table[0].enable_key_rotation
    error_message = "the table key rotates yearly"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_kms_key.table[0].policy).Statement : alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])])
    error_message = "no wildcard action in the table key policy"
  }
  assert {
    condition     = contains(flatten([jsondecode(aws_kms_key.table[0].policy).Statement[1].Principal.AWS]), "arn:aws:iam::123456789012:role/gatehouse-function") && jsondecode(aws_kms_key.table[0].policy).Statement[1].Condition.StringEquals["kms:ViaService"] == "dynamodb.eu-west-1.amazonaws.com"
    error_message = "the function's role may use the table key only through DynamoDB"
  }
}

run "storage_uses_a_given_key_and_honours_deletion_protection_off" {
  command = plan
  module {
    source = "./modules/storage"
  }
  variables {
    name                = "gatehouse"
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/mine"
    deletion_protection = false
  }

  assert {
    condition     = length(aws_kms_key.table) == 0 && one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/mine"
    error_message = "a given key replaces the module's own"
  }
  assert {
    condition     = !aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion_protection = false reaches the table"
  }
}

run "storage_rejects_bad_table_name_and_key_arn" {
  command = plan
  module {
    source = "./modules/storage"
  }
  variables {
    name        = "a b"
    kms_key_arn = "alias/mine"
  }
  expect_failures = [var.name, var.kms_key_arn]
}

# ---- keys ----

run "keys_are_rsa_sign_verify_and_symmetric_scoped_to_the_role" {
  command = plan
  module {
    source = "./modules/keys"
  }
  variables {
    name = "gatehouse"
  }

  assert {
    condition     = aws_kms_key.this["1"].customer_master_key_spec == "RSA_2048" && aws_kms_key.this["1"].key_usage == "SIGN_VERIFY"
    error_message = "the signing key is RSA_2048 / SIGN_VERIFY (RS256; HTTP API authorizers accept RSA only)"
  }
  assert {
    condition     = aws_kms_key.encryption.customer_master_key_spec == "SYMMETRIC_DEFAULT" && aws_kms_key.encryption.key_usage == "ENCRYPT_DECRYPT" && aws_kms_key.encryption.enable_key_rotation
    error_message = "the envelope key is symmetric with yearly rotation"
  }
  assert {
    condition     = jsondecode(aws_kms_key.this["1"].policy).Statement[1].Principal.AWS == "arn:aws:iam::123456789012:role/gatehouse-function" && toset(jsondecode(aws_kms_key.this["1"].policy).Statement[1].Action) == toset(["kms:GetPublicKey", "kms:Sign"])
    error_message = "only the function role may sign"
  }
  assert {
    condition     = jsondecode(aws_kms_key.encryption.policy).Statement[1].Principal.AWS == "arn:aws:iam::123456789012:role/gatehouse-function" && toset(jsondecode(aws_kms_key.encryption.policy).Statement[1].Action) == toset(["kms:Decrypt", "kms:GenerateDataKey"])
    error_message = "only the function role may encrypt and decrypt"
  }
  assert {
    condition     = alltrue(flatten([for p in [aws_kms_key.this["1"].policy, aws_kms_key.encryption.policy] : [for s in jsondecode(p).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]]]))
    error_message = "no wildcard action in key policies"
  }
  assert {
    condition     = !contains(jsondecode(aws_kms_key.this["1"].policy).Statement[0].Action, "kms:Sign") && !contains(jsondecode(aws_kms_key.encryption.policy).Statement[0].Action, "kms:Decrypt")
    error_message = "key administrators cannot use the keys"
  }
  assert {
    condition     = length(jsondecode(aws_kms_key.encryption.policy).Statement) == 2
    error_message = "without operator roles only the function can decrypt"
  }
}

run "keys_let_operators_open_only_grant_upstream_tokens" {
  command = plan
  module {
    source = "./modules/keys"
  }
  variables {
    name               = "gatehouse"
    operator_role_arns = ["arn:aws:iam::123456789012:role/gatehouse-operator"]
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.encryption.policy).Statement) == 3 && jsondecode(aws_kms_key.encryption.policy).Statement[2].Principal.AWS == ["arn:aws:iam::123456789012:role/gatehouse-operator"]
    error_message = "operator roles get their own statement on the encryption key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.encryption.policy).Statement[2].Action == ["kms:Decrypt"] && jsondecode(aws_kms_key.encryption.policy).Statement[2].Condition.StringLike["kms:EncryptionContext:gatehouse:context"] == "grant:*"
    error_message = "operators may only decrypt, and only values sealed for a grant"
  }
  assert {
    condition     = length(jsondecode(aws_kms_key.this["1"].policy).Statement) == 2
    error_message = "operators get nothing on the signing key"
  }
}

run "keys_reject_operator_principals_that_are_not_roles" {
  command = plan
  module {
    source = "./modules/keys"
  }
  variables {
    name               = "gatehouse"
    operator_role_arns = ["arn:aws:iam::123456789012:user/alice"]
  }
  expect_failures = [var.operator_role_arns]
}

run "keys_rotation_keeps_the_previous_signing_key" {
  command = plan
  module {
    source = "./modules/keys"
  }
  variables {
    name                    = "gatehouse"
    signing_key_generations = ["2025-01", "2025-07"]
  }
  override_resource {
    target          = aws_kms_key.this["2025-01"]
    override_during = plan
    values          = { arn = "arn:aws:kms:eu-west-1:123456789012:key/old" }
  }
  override_resource {
    target          = aws_kms_key.this["2025-07"]
    override_during = plan
    values          = { arn = "arn:aws:kms:eu-west-1:123456789012:key/new" }
  }

  assert {
    condition     = output.kms_signing_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/new" && output.kms_previous_signing_key_arns == ["arn:aws:kms:eu-west-1:123456789012:key/old"]
    error_message = "the last generation signs; earlier ones are previous keys"
  }
}

run "keys_reject_bad_generations_and_role" {
  command = plan
  module {
    source = "./modules/keys"
  }
  variables {
    name                    = "gatehouse"
    signing_key_generations = ["a", "a"]
    user_role_arn           = "gatehouse-function"
  }
  expect_failures = [var.signing_key_generations, var.user_role_arn]
}

# ---- function ----

run "function_runs_the_bundle_on_nodejs22_x86_64_with_the_app_environment" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name = "gatehouse"
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "nodejs22.x" && aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.handler == "index.handler"
    error_message = "nodejs22.x, x86_64 (the default), index.handler"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/lambda.zip") && aws_lambda_function.this.memory_size == 1024 && aws_lambda_function.this.timeout == 15
    error_message = "code hash from the bundle; memory and timeout from variables"
  }
  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      GATEHOUSE_PUBLIC_URL            = "https://abc123.execute-api.eu-west-1.amazonaws.com"
      GATEHOUSE_TABLE                 = "gatehouse"
      UPSTREAM_ISSUER                 = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
      UPSTREAM_CLIENT_ID              = "exampleclientid"
      UPSTREAM_CLIENT_SECRET_ARN      = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/cognito-client-secret-AbCdEf"
      UPSTREAM_AUTHORIZATION_ENDPOINT = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
      UPSTREAM_TOKEN_ENDPOINT         = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/token"
      UPSTREAM_REVOCATION_ENDPOINT    = "https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/revoke"
      KMS_SIGNING_KEY_ID              = "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"
      KMS_PREVIOUS_SIGNING_KEY_IDS    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111"
      KMS_SIGNING_PUBLIC_KEYS         = jsonencode({ "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222" = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111" = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" })
      KMS_ENCRYPTION_KEY_ID           = "arn:aws:kms:eu-west-1:123456789012:key/enc"
      COOKIE_SECRET_ARN               = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/cookie-secret-AbCdEf"
      GRANT_CACHE_TTL                 = "30"
      CLIENT_UNUSED_DAYS              = "90"
      LOG_LEVEL                       = "info"
    })
    error_message = "the environment carries exactly the config.ts settings, secrets only by ARN"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.name == "/aws/lambda/gatehouse"
    error_message = "the log group has a retention"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])])
    error_message = "no wildcard action in the role policy"
  }
  assert {
    condition     = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : [for r in flatten([s.Resource]) : r != "*" && (!strcontains(r, "*") || (startswith(r, "arn:aws:logs:") && endswith(r, ":log-group:/aws/lambda/gatehouse:*")))]]))
    error_message = "no wildcard resource in the role policy, except the log-stream suffix AWS requires"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "TableItems"][0] == ["arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse", "arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse/index/byUser"]
    error_message = "only this table"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "SignAccessTokens"][0] == ["arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222", "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111"]
    error_message = "sign with the current and previous keys only"
  }
  assert {
    condition     = toset([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid]) == toset(["TableItems", "TableKeyThroughDynamoDB", "SignAccessTokens", "EnvelopeEncryptUpstreamTokens", "ReadSecrets", "WriteLogs"])
    error_message = "no statement beyond table, keys, secrets and logs (Cognito RevokeToken needs no IAM permission)"
  }
}

run "function_without_provisioned_concurrency_publishes_nothing_and_is_invoked_unqualified" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name = "gatehouse"
  }

  assert {
    condition     = !aws_lambda_function.this.publish && length(aws_lambda_alias.live) == 0 && length(aws_lambda_provisioned_concurrency_config.live) == 0
    error_message = "the default (0) publishes no version and creates no alias or provisioned concurrency"
  }
  assert {
    condition     = output.lambda_function_invoke_arn == aws_lambda_function.this.invoke_arn && output.lambda_function_qualifier == null
    error_message = "API Gateway invokes the unqualified function"
  }
}

run "function_with_provisioned_concurrency_keeps_the_published_version_warm_behind_an_alias" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                    = "gatehouse"
    provisioned_concurrency = 2
  }

  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_alias.live[0].name == "live" && aws_lambda_alias.live[0].function_version == "7"
    error_message = "each apply publishes a version and the alias points at it"
  }
  assert {
    condition     = aws_lambda_provisioned_concurrency_config.live[0].qualifier == "live" && aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions == 2
    error_message = "provisioned concurrency is configured on the alias"
  }
  assert {
    condition     = output.lambda_function_invoke_arn == aws_lambda_alias.live[0].invoke_arn && endswith(output.lambda_function_invoke_arn, ":function:gatehouse:live/invocations") && output.lambda_function_qualifier == "live"
    error_message = "API Gateway invokes the alias, not $LATEST"
  }
}

run "function_rejects_provisioned_concurrency_beyond_the_reserved_concurrency" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                           = "gatehouse"
    reserved_concurrent_executions = 2
    provisioned_concurrency        = 3
  }
  expect_failures = [var.provisioned_concurrency]
}

run "function_rejects_bad_sizes_urls_and_secret_environment" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                  = "gatehouse"
    memory_size           = 64
    timeout               = 60
    public_url            = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
    log_retention_in_days = 0
    extra_environment     = { UPSTREAM_CLIENT_SECRET = "hunter2" }
  }
  expect_failures = [var.memory_size, var.timeout, var.public_url, var.log_retention_in_days, var.extra_environment]
}

# ---- api ----

run "api_may_invoke_exactly_the_function_or_alias_it_integrates" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name                       = "gatehouse"
    lambda_function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse:live/invocations"
    lambda_function_qualifier  = "live"
  }

  assert {
    condition     = aws_lambda_permission.api_alias[0].qualifier == "live" && aws_lambda_permission.api_alias[0].function_name == "gatehouse" && aws_lambda_permission.api_alias[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:abc123/*"
    error_message = "an invoke permission names the alias API Gateway calls, for this API only"
  }
  assert {
    condition     = aws_lambda_permission.api.qualifier == null
    error_message = "the unqualified permission stays, so turning the alias on or off replaces nothing"
  }
  assert {
    condition     = aws_apigatewayv2_integration.lambda.integration_uri == var.lambda_function_invoke_arn
    error_message = "the integration targets the alias"
  }
}

run "api_routes_every_gatehouse_path_and_guards_post_mcp_with_a_jwt_authorizer" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name = "gatehouse"
  }

  assert {
    condition     = length(aws_lambda_permission.api_alias) == 0 && aws_lambda_permission.api.qualifier == null
    error_message = "without an alias only the unqualified function may be invoked"
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.mcp[0].authorizer_type == "JWT" && aws_apigatewayv2_authorizer.mcp[0].identity_sources == toset(["$request.header.Authorization"])
    error_message = "a JWT authorizer on the Authorization header"
  }
  assert {
    condition     = one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).issuer == aws_apigatewayv2_api.this.api_endpoint && one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).issuer == "https://abc123.execute-api.eu-west-1.amazonaws.com"
    error_message = "the authorizer's issuer is gatehouse's public URL"
  }
  assert {
    condition     = one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).audience == toset(["https://abc123.execute-api.eu-west-1.amazonaws.com/mcp"])
    error_message = "the authorizer's audience is the /mcp URL"
  }
  assert {
    condition     = aws_apigatewayv2_route.mcp.route_key == "POST /mcp" && aws_apigatewayv2_route.mcp.authorization_type == "JWT" && aws_apigatewayv2_route.mcp.authorizer_id == aws_apigatewayv2_authorizer.mcp[0].id
    error_message = "POST /mcp carries the authorizer"
  }
  assert {
    condition = toset(concat(keys(aws_apigatewayv2_route.this), [aws_apigatewayv2_route.mcp.route_key])) == toset([
      "GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration",
      "GET /.well-known/oauth-protected-resource", "GET /.well-known/oauth-protected-resource/mcp", "GET /jwks.json",
      "POST /register", "GET /authorize", "POST /authorize/consent", "GET /callback", "GET /account", "POST /account/revoke", "POST /token", "POST /introspect",
      "POST /revoke", "POST /mcp", "GET /mcp", "DELETE /mcp", "GET /healthz",
      "OPTIONS /.well-known/oauth-authorization-server", "OPTIONS /.well-known/openid-configuration",
      "OPTIONS /.well-known/oauth-protected-resource", "OPTIONS /.well-known/oauth-protected-resource/mcp", "OPTIONS /jwks.json",
      "OPTIONS /register", "OPTIONS /token", "OPTIONS /introspect", "OPTIONS /revoke", "OPTIONS /mcp",
    ])
    error_message = "every gatehouse route reaches the function, and CORS preflights only for the cross-origin endpoints"
  }
  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "NONE" || r.authorization_type == null])
    error_message = "discovery, OAuth and health routes stay unauthenticated at the gateway"
  }
  assert {
    condition     = aws_apigatewayv2_integration.lambda.integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.lambda.payload_format_version == "2.0"
    error_message = "Lambda proxy integration, payload 2.0"
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 50 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 100
    error_message = "stage-wide throttling plus stricter limits on the OAuth routes"
  }
  assert {
    condition     = one(aws_apigatewayv2_stage.default.access_log_settings).destination_arn == aws_cloudwatch_log_group.access.arn && aws_cloudwatch_log_group.access.retention_in_days == 30
    error_message = "access logs go to a log group with retention"
  }
  assert {
    condition     = length(aws_apigatewayv2_api.this.cors_configuration) == 0
    error_message = "no API-level CORS: API Gateway would answer the browser routes' preflights itself (RFC 9700 §2.6)"
  }
  assert {
    condition     = contains(keys(aws_apigatewayv2_route.this), "OPTIONS /mcp") && contains(keys(aws_apigatewayv2_route.this), "OPTIONS /token") && !contains(keys(aws_apigatewayv2_route.this), "OPTIONS /authorize") && !contains(keys(aws_apigatewayv2_route.this), "OPTIONS /callback") && !contains(keys(aws_apigatewayv2_route.this), "OPTIONS /authorize/consent")
    error_message = "preflights reach gatehouse for the cross-origin endpoints only, never for the browser routes"
  }
  assert {
    condition     = output.mcp_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp"
    error_message = "mcp_url output"
  }
}

run "api_custom_domain_is_the_authorizer_issuer" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name            = "gatehouse"
    domain_name     = "mcp.example.com"
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
  }

  assert {
    condition     = one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).issuer == "https://mcp.example.com" && one(aws_apigatewayv2_authorizer.mcp[0].jwt_configuration).audience == toset(["https://mcp.example.com/mcp"])
    error_message = "issuer and audience follow the custom domain"
  }
  assert {
    condition     = length(aws_apigatewayv2_domain_name.this) == 1 && length(aws_apigatewayv2_api_mapping.this) == 1 && length(aws_route53_record.this) == 0
    error_message = "domain and mapping created; DNS left to the operator without a zone id"
  }
}

run "api_rejects_bad_domain_throttling_and_retention" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name                         = "gatehouse"
    domain_name                  = "https://mcp.example.com/"
    throttling_rate_limit        = 0
    throttling_burst_limit       = 0.5
    access_log_retention_in_days = 2
  }
  expect_failures = [var.domain_name, var.throttling_rate_limit, var.throttling_burst_limit, var.access_log_retention_in_days]
}

# ---- cognito ----

run "cognito_pool_client_domain_groups_and_sso" {
  command = plan
  module {
    source = "./modules/cognito"
  }
  variables {
    name = "gatehouse"
    identity_providers = {
      Okta  = { type = "SAML", metadata_url = "https://example.okta.com/app/abc/sso/saml/metadata" }
      Entra = { type = "OIDC", oidc_issuer = "https://login.microsoftonline.com/tenant/v2.0", client_id = "entra-client" }
    }
    identity_provider_client_secrets = { Entra = "entra-secret" }
  }

  assert {
    condition     = aws_cognito_user_pool.this.username_attributes == toset(["email"]) && aws_cognito_user_pool.this.mfa_configuration == "OPTIONAL" && aws_cognito_user_pool.this.deletion_protection == "ACTIVE"
    error_message = "email sign-in, MFA from the variable, deletion protection"
  }
  assert {
    condition     = one(aws_cognito_user_pool.this.password_policy).minimum_length == 12 && length(aws_cognito_user_pool.this.software_token_mfa_configuration) == 1
    error_message = "password policy and TOTP MFA"
  }
  assert {
    condition     = aws_cognito_user_pool_domain.this.domain == "gatehouse-test" && aws_cognito_user_pool_domain.this.managed_login_version == 1
    error_message = "a hosted UI domain"
  }
  assert {
    condition     = aws_cognito_user_pool_client.gatehouse.generate_secret && aws_cognito_user_pool_client.gatehouse.allowed_oauth_flows == toset(["code"]) && aws_cognito_user_pool_client.gatehouse.allowed_oauth_scopes == toset(["openid", "email", "profile"])
    error_message = "one confidential client, code flow, openid email profile"
  }
  assert {
    condition     = aws_cognito_user_pool_client.gatehouse.callback_urls == toset(["https://abc123.execute-api.eu-west-1.amazonaws.com/callback"]) && aws_cognito_user_pool_client.gatehouse.logout_urls == toset(["https://abc123.execute-api.eu-west-1.amazonaws.com"])
    error_message = "callback is gatehouse's /callback; logout URL set"
  }
  assert {
    condition     = aws_cognito_user_pool_client.gatehouse.supported_identity_providers == toset(["COGNITO", "Okta", "Entra"])
    error_message = "the client offers the pool's own users and every enterprise IdP"
  }
  assert {
    condition     = toset(keys(aws_cognito_user_group.this)) == toset(["engineering", "admins"])
    error_message = "default groups engineering and admins"
  }
  assert {
    condition     = aws_cognito_identity_provider.this["Okta"].provider_type == "SAML" && aws_cognito_identity_provider.this["Okta"].provider_details["MetadataURL"] == "https://example.okta.com/app/abc/sso/saml/metadata"
    error_message = "SAML IdP from the variable"
  }
  assert {
    condition     = aws_cognito_identity_provider.this["Entra"].provider_type == "OIDC" && aws_cognito_identity_provider.this["Entra"].provider_details["oidc_issuer"] == "https://login.microsoftonline.com/tenant/v2.0"
    error_message = "OIDC IdP from the variable"
  }
  assert {
    condition     = output.cognito_user_pool_issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example" && output.cognito_token_endpoint == "https://gatehouse-test.auth.eu-west-1.amazoncognito.com/oauth2/token"
    error_message = "issuer and hosted UI endpoints"
  }
  assert {
    condition     = length(aws_cognito_user_pool.this.user_pool_add_ons) == 0
    error_message = "no threat protection add-on outside the PLUS tier"
  }
}

run "cognito_threat_protection_on_plus" {
  command = plan
  module {
    source = "./modules/cognito"
  }
  variables {
    name                   = "gatehouse"
    user_pool_tier         = "PLUS"
    advanced_security_mode = "ENFORCED"
    mfa_configuration      = "ON"
  }

  assert {
    condition     = one(aws_cognito_user_pool.this.user_pool_add_ons).advanced_security_mode == "ENFORCED" && aws_cognito_user_pool.this.mfa_configuration == "ON"
    error_message = "advanced security where the tier allows it"
  }
}

run "cognito_rejects_bad_mfa_security_domain_and_idps" {
  command = plan
  module {
    source = "./modules/cognito"
  }
  variables {
    name                   = "gatehouse"
    domain_prefix          = "my-cognito-login"
    mfa_configuration      = "SOMETIMES"
    advanced_security_mode = "AUDIT"
    callback_urls          = ["http://example.com/callback"]
    identity_providers = {
      Broken = { type = "SAML" }
    }
  }
  expect_failures = [var.domain_prefix, var.mfa_configuration, var.advanced_security_mode, var.callback_urls, var.identity_providers]
}

run "function_runtime_updates_automatically_unless_a_version_is_pinned" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name = "gatehouse"
  }

  assert {
    condition     = length(aws_lambda_runtime_management_config.this) == 0
    error_message = "by default nothing is pinned: AWS updates the runtime (Auto, security patches first)"
  }
}

run "function_pins_the_runtime_version_it_is_given" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                = "gatehouse"
    runtime_version_arn = "arn:aws:lambda:eu-west-1::runtime:0b0d4e5c7a1f2e3d4c5b6a79880716253443526170819a8b7c6d5e4f3a2b1c0d"
  }

  assert {
    condition     = aws_lambda_runtime_management_config.this[0].update_runtime_on == "Manual" && aws_lambda_runtime_management_config.this[0].runtime_version_arn == "arn:aws:lambda:eu-west-1::runtime:0b0d4e5c7a1f2e3d4c5b6a79880716253443526170819a8b7c6d5e4f3a2b1c0d" && aws_lambda_runtime_management_config.this[0].function_name == "gatehouse"
    error_message = "a given runtime version is pinned with manual updates"
  }
}

run "function_rejects_a_runtime_version_that_is_not_an_arn" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                = "gatehouse"
    runtime_version_arn = "nodejs:22.v45"
  }
  expect_failures = [var.runtime_version_arn]
}
