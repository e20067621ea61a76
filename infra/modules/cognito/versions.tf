terraform {
  # 1.11: write-only arguments (secret_string_wo) and ephemeral resources keep generated secrets out of state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}
