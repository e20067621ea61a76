variable "name" {
  description = "Name of the DynamoDB table (GATEHOUSE_TABLE)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "The table name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "deletion_protection" {
  description = "Whether DynamoDB refuses to delete the table. Turn it off before `make destroy` if you really mean to lose every client and grant."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key that encrypts the table. Null creates a dedicated key in this module."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "key_administrator_arns" {
  description = "IAM principals that administer the table key (never use it for data). Empty means the account root, which delegates to IAM policies."
  type        = list(string)
  default     = []
}

variable "key_user_arns" {
  description = "IAM roles that read and write the table; the table key lets them use it only through DynamoDB (kms:ViaService)."
  type        = list(string)
  default     = []
}

variable "key_deletion_window_in_days" {
  description = "Waiting period before a deleted table key is destroyed."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_in_days >= 7 && var.key_deletion_window_in_days <= 30
    error_message = "KMS allows a deletion window of 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
