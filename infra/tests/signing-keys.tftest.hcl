# The signing keys' public halves reach the function in its environment (KMS_SIGNING_PUBLIC_KEYS, issue 17):
# Terraform reads each configured signing key (current and previous) with aws_kms_public_key, and the
# function verifies tokens without calling KMS at a cold start. KMS still signs: kms:Sign stays granted.
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


run "every_signing_key_public_half_is_delivered_by_its_key_id" {
  command = plan
  module {
    source = "./modules/function"
  }

  assert {
    condition     = [for k in data.aws_kms_public_key.signing : k.key_id] == ["arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222", "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111"]
    error_message = "one aws_kms_public_key per signing key, current first"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables.KMS_SIGNING_PUBLIC_KEYS) == { "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222" = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111" = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" }
    error_message = "KMS_SIGNING_PUBLIC_KEYS maps each configured key id (as in KMS_SIGNING_KEY_ID / KMS_PREVIOUS_SIGNING_KEY_IDS) to its base64 DER public key"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.KMS_SIGNING_KEY_ID == "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"
    error_message = "the signing key id is the key the public key was read from"
  }
  assert {
    condition     = contains(flatten([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if contains(flatten([s.Action]), "kms:Sign")]), "kms:Sign")
    error_message = "KMS still signs"
  }
}

run "a_single_signing_key_is_delivered_alone" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    previous_signing_key_arns = []
  }

  assert {
    condition     = length(data.aws_kms_public_key.signing) == 1 && keys(jsondecode(aws_lambda_function.this.environment[0].variables.KMS_SIGNING_PUBLIC_KEYS)) == ["arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"]
    error_message = "no previous key, one public key"
  }
}
