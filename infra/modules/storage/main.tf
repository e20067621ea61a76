data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  create_key  = var.kms_key_arn == null
  kms_key_arn = local.create_key ? aws_kms_key.table[0].arn : var.kms_key_arn
  key_admins  = length(var.key_administrator_arns) > 0 ? var.key_administrator_arns : ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
  # Key policies may only name "*" as their resource: it means "this key".
  key_admin_actions = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyRotations", "kms:ListResourceTags",
    "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
  ]
  # Key policies may only name "*" as their resource: in a key policy it means "this key".
  table_key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.key_admins }
        Action    = local.key_admin_actions
        Resource  = "*"
      },
      {
        # Whoever creates, restores or uses the table: DynamoDB calls KMS on their behalf, and only DynamoDB may.
        Sid       = "UseThroughDynamoDB"
        Effect    = "Allow"
        Principal = { AWS = concat(local.key_admins, var.key_user_arns) }
        Action    = local.via_dynamodb_actions
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = "dynamodb.${data.aws_region.current.name}.amazonaws.com"
            "kms:CallerAccount" = data.aws_caller_identity.current.account_id
          }
        }
      },
    ]
  }
  via_dynamodb_actions = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
}

resource "aws_kms_key" "table" {
  count = local.create_key ? 1 : 0

  description             = "gatehouse DynamoDB table ${var.name} (server-side encryption)"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.key_deletion_window_in_days
  policy                  = jsonencode(local.table_key_policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "table" {
  count = local.create_key ? 1 : 0

  name          = "alias/${var.name}-table"
  target_key_id = aws_kms_key.table[0].key_id
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # A user's grants: only grant items carry gsi1pk (USER#<sub>) and gsi1sk (GRANT#<id>); docs/storage-schema.md.
  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  global_secondary_index {
    name            = "byUser"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  # DynamoDB deletes expired items lazily (within days); gatehouse also checks expiresAt on every read.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  tags = var.tags
}
