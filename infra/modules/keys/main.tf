data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  key_admins = length(var.key_administrator_arns) > 0 ? var.key_administrator_arns : ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
  # Administration only: no kms:Sign, kms:Decrypt or kms:GenerateDataKey, so only the function can use the keys.
  key_admin_actions = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
    "kms:GetPublicKey", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyRotations", "kms:ListResourceTags",
    "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
  ]
  current_generation = var.signing_key_generations[length(var.signing_key_generations) - 1]

  # Key policies may only name "*" as their resource: in a key policy it means "this key".
  admin_statement = {
    Sid       = "KeyAdministration"
    Effect    = "Allow"
    Principal = { AWS = local.key_admins }
    Action    = local.key_admin_actions
    Resource  = "*"
  }
  signing_policy = {
    Version = "2012-10-17"
    Statement = [
      local.admin_statement,
      {
        Sid       = "SignAccessTokens"
        Effect    = "Allow"
        Principal = { AWS = var.user_role_arn }
        Action    = ["kms:GetPublicKey", "kms:Sign"]
        Resource  = "*"
      },
    ]
  }
  encryption_use_statement = {
    Sid       = "EnvelopeEncryptUpstreamTokens"
    Effect    = "Allow"
    Principal = { AWS = var.user_role_arn }
    Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource  = "*"
  }
  # Only with operator_role_arns: `gatehouse admin revoke-grant` / `revoke-user` end the user's upstream (IdP)
  # session, which needs the grant's sealed upstream tokens. Decrypt only, and only of grant contexts
  # (src/oauth/authorize.ts seals them under "grant:<id>"): operators can neither seal values nor open the
  # gateway's sealed session ids.
  operator_statement = {
    Sid       = "OperatorsOpenGrantUpstreamTokens"
    Effect    = "Allow"
    Principal = { AWS = var.operator_role_arns }
    Action    = ["kms:Decrypt"]
    Resource  = "*"
    Condition = { StringLike = { "kms:EncryptionContext:gatehouse:context" = "grant:*" } }
  }
  encryption_policy = {
    Version   = "2012-10-17"
    Statement = concat([local.admin_statement, local.encryption_use_statement], length(var.operator_role_arns) == 0 ? [] : [local.operator_statement])
  }
}

# Asymmetric keys cannot rotate automatically: rotation is a new generation (see signing_key_generations).
resource "aws_kms_key" "this" {
  for_each = toset(var.signing_key_generations)

  description              = "gatehouse ${var.name} access-token signing key, generation ${each.key} (RS256)"
  customer_master_key_spec = "RSA_2048"
  key_usage                = "SIGN_VERIFY"
  deletion_window_in_days  = var.deletion_window_in_days
  policy                   = jsonencode(local.signing_policy)
  tags                     = var.tags
}

resource "aws_kms_alias" "signing" {
  for_each = aws_kms_key.this

  name          = "alias/${var.name}-signing-${each.key}"
  target_key_id = each.value.key_id
}

resource "aws_kms_key" "encryption" {
  description              = "gatehouse ${var.name} envelope encryption of upstream tokens"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  key_usage                = "ENCRYPT_DECRYPT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.deletion_window_in_days
  policy                   = jsonencode(local.encryption_policy)
  tags                     = var.tags
}

resource "aws_kms_alias" "encryption" {
  name          = "alias/${var.name}-encryption"
  target_key_id = aws_kms_key.encryption.key_id
}
