variable "name" {
  description = "Prefix for the key aliases (alias/<name>-signing-<generation>, alias/<name>-encryption)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,200}$", var.name))
    error_message = "name may contain letters, digits, '/', '_' and '-' only (it becomes part of a KMS alias)."
  }
}

variable "signing_key_generations" {
  description = "Labels of the RSA signing keys, oldest first. The last one signs new tokens; the others stay in /jwks.json so tokens they signed still verify. To rotate, append a label, apply, wait at least the access-token lifetime (1 h), then remove the old label and apply again."
  type        = list(string)
  default     = ["1"]

  validation {
    condition     = length(var.signing_key_generations) >= 1 && length(var.signing_key_generations) <= 3
    error_message = "Keep one to three signing key generations (current plus at most two previous)."
  }

  validation {
    condition     = length(distinct(var.signing_key_generations)) == length(var.signing_key_generations) && alltrue([for g in var.signing_key_generations : can(regex("^[A-Za-z0-9_-]{1,32}$", g))])
    error_message = "Signing key generation labels must be unique and made of 1-32 letters, digits, '_' or '-'."
  }
}

variable "user_role_arn" {
  description = "ARN of the IAM role (the gatehouse function's) that may sign with and encrypt under these keys. Nobody else may use them."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.user_role_arn))
    error_message = "user_role_arn must be an IAM role ARN."
  }
}

variable "operator_role_arns" {
  description = "IAM roles of operators who run `gatehouse admin revoke-grant` / `revoke-user` against the deployed table. They may Decrypt under the encryption key, only values sealed for a grant (its upstream tokens), so a revocation also ends the user's upstream session. Empty: only the function can, and an operator's revocation still revokes the grant but reports the upstream session `failed`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.operator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "operator_role_arns must be IAM role ARNs."
  }
}

variable "key_administrator_arns" {
  description = "IAM principals that administer the keys (policy, rotation, deletion; never sign or decrypt). Empty means the account root, which delegates to IAM policies."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a deleted key is destroyed. Deleting the encryption key makes every stored upstream token unreadable."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "KMS allows a deletion window of 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
