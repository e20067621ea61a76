data "aws_region" "current" {}

locals {
  saml_email = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
  hosted_ui  = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com"
}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  user_pool_tier           = var.user_pool_tier
  mfa_configuration        = var.mfa_configuration
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  username_configuration {
    case_sensitive = false
  }

  password_policy {
    minimum_length                   = var.password_policy.minimum_length
    require_lowercase                = var.password_policy.require_lowercase
    require_uppercase                = var.password_policy.require_uppercase
    require_numbers                  = var.password_policy.require_numbers
    require_symbols                  = var.password_policy.require_symbols
    temporary_password_validity_days = var.password_policy.temporary_password_validity_days
    password_history_size            = var.password_policy.password_history_size
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [true]
    content {
      enabled = true
    }
  }

  dynamic "user_pool_add_ons" {
    for_each = var.user_pool_tier == "PLUS" ? [true] : []
    content {
      advanced_security_mode = var.advanced_security_mode
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.allow_self_sign_up
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_domain" "this" {
  domain                = var.domain_prefix
  user_pool_id          = aws_cognito_user_pool.this.id
  managed_login_version = var.managed_login_version
}

resource "aws_cognito_user_group" "this" {
  for_each = var.groups

  name         = each.key
  user_pool_id = aws_cognito_user_pool.this.id
  description  = each.value.description
  precedence   = each.value.precedence
}

resource "aws_cognito_identity_provider" "this" {
  for_each = var.identity_providers

  user_pool_id    = aws_cognito_user_pool.this.id
  provider_name   = each.key
  provider_type   = each.value.type
  idp_identifiers = each.value.idp_identifiers

  provider_details = each.value.type == "SAML" ? {
    for k, v in {
      MetadataURL  = each.value.metadata_url
      MetadataFile = each.value.metadata_file
      IDPSignout   = tostring(each.value.sign_out)
    } : k => v if v != null
    } : {
    client_id                 = each.value.client_id
    client_secret             = lookup(var.identity_provider_client_secrets, each.key, "")
    oidc_issuer               = each.value.oidc_issuer
    authorize_scopes          = each.value.authorize_scopes
    attributes_request_method = "GET"
  }

  attribute_mapping = coalesce(each.value.attribute_mapping, each.value.type == "SAML" ? { email = local.saml_email } : { email = "email", email_verified = "email_verified" })

  # Cognito adds computed endpoints to provider_details (ActiveEncryptionCertificate, OIDC URLs).
  lifecycle {
    ignore_changes = [provider_details["ActiveEncryptionCertificate"], provider_details["attributes_url"], provider_details["authorize_url"], provider_details["token_url"], provider_details["jwks_uri"], provider_details["attributes_url_add_attributes"]]
  }
}

# gatehouse is the only client: confidential, authorization code with PKCE from gatehouse's side.
resource "aws_cognito_user_pool_client" "gatehouse" {
  name            = "${var.name}-gatehouse"
  user_pool_id    = aws_cognito_user_pool.this.id
  generate_secret = true

  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  callback_urls                        = var.callback_urls
  logout_urls                          = var.logout_urls
  supported_identity_providers         = concat(["COGNITO"], [for p in aws_cognito_identity_provider.this : p.provider_name])

  # Only the hosted UI signs users in; no password flows through the API.
  explicit_auth_flows           = ["ALLOW_REFRESH_TOKEN_AUTH"]
  enable_token_revocation       = true
  prevent_user_existence_errors = "ENABLED"
  read_attributes               = ["email", "email_verified", "name"]

  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = var.refresh_token_validity_days
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

# The function reads the client secret from here (UPSTREAM_CLIENT_SECRET_ARN); no output carries the value.
# Terraform state holds it anyway (client_secret of the app client): keep state private and encrypted.
resource "aws_secretsmanager_secret" "client" {
  name_prefix             = "${var.name}/cognito-client-secret-"
  description             = "gatehouse: secret of its Cognito app client ${aws_cognito_user_pool_client.gatehouse.id}"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "client" {
  secret_id     = aws_secretsmanager_secret.client.id
  secret_string = aws_cognito_user_pool_client.gatehouse.client_secret
}
