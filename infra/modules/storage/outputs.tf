output "dynamodb_table_name" {
  description = "Name of the table (GATEHOUSE_TABLE)."
  value       = aws_dynamodb_table.this.name
}

output "dynamodb_table_arn" {
  description = "ARN of the table, for IAM policies."
  value       = aws_dynamodb_table.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the table."
  value       = local.kms_key_arn
}
