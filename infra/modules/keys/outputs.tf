output "kms_signing_key_arn" {
  description = "ARN of the key that signs new access tokens (KMS_SIGNING_KEY_ID)."
  value       = aws_kms_key.this[local.current_generation].arn
}

output "kms_previous_signing_key_arns" {
  description = "ARNs of the earlier signing keys still published in /jwks.json (KMS_PREVIOUS_SIGNING_KEY_IDS)."
  value       = [for g in var.signing_key_generations : aws_kms_key.this[g].arn if g != local.current_generation]
}

output "kms_signing_key_arns" {
  description = "ARNs of every signing key generation, current and previous."
  value       = [for g in var.signing_key_generations : aws_kms_key.this[g].arn]
}

output "kms_encryption_key_arn" {
  description = "ARN of the symmetric key for envelope encryption of upstream tokens (KMS_ENCRYPTION_KEY_ID)."
  value       = aws_kms_key.encryption.arn
}
