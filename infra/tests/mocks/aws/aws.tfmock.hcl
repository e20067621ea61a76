# Shared mock AWS data for the plan-time tests (root.tftest.hcl, modules.tftest.hcl): computed attributes
# (ARNs, ids, the API endpoint) with realistic shapes, so assertions on them mean something.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_kms_public_key" {
  # base64 DER of an RSA-2048 SubjectPublicKeyInfo starts like this; enough for shape checks.
  defaults = { public_key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", key_usage = "SIGN_VERIFY" }
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
    version    = "7"
  }
}
mock_resource "aws_lambda_alias" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:gatehouse:live"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse:live/invocations"
  }
}
