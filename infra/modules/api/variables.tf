variable "name" {
  description = "Name of the HTTP API; also names its access-log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.name))
    error_message = "name must be 1-128 letters, digits, '_' or '-'."
  }
}

variable "lambda_function_name" {
  description = "Name of the gatehouse function that API Gateway may invoke."
  type        = string
}

variable "lambda_function_invoke_arn" {
  description = "Invoke ARN of the gatehouse function (the target of every route)."
  type        = string
}

variable "lambda_function_qualifier" {
  description = "Alias of the function that lambda_function_invoke_arn names (e.g. \"live\" with provisioned concurrency); null for the unqualified function."
  type        = string
  default     = null
}

variable "domain_name" {
  description = "Custom domain for gatehouse (e.g. mcp.example.com). Null uses the API's own https://<id>.execute-api.<region>.amazonaws.com endpoint as the public URL."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lowercase DNS name such as mcp.example.com (no scheme, no path)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in the API's region. Required when domain_name is set."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone in which to create the alias record for domain_name. Null: create the DNS record yourself (see the api_gateway_domain_target output)."
  type        = string
  default     = null
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the API accepts across all routes before answering 429."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be above 0 and at most 10000 (the account default)."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the API accepts above the rate limit."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "oauth_throttling_rate_limit" {
  description = "Stricter requests per second for the unauthenticated OAuth endpoints that create records (POST /register, POST /token, GET /authorize)."
  type        = number
  default     = 10

  validation {
    condition     = var.oauth_throttling_rate_limit > 0 && var.oauth_throttling_rate_limit <= 10000
    error_message = "oauth_throttling_rate_limit must be above 0 and at most 10000."
  }
}

variable "access_log_retention_in_days" {
  description = "How long CloudWatch keeps the API's access logs, days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.access_log_retention_in_days)
    error_message = "access_log_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "backend_names" {
  description = "Names of the gateway backends (GATEHOUSE_BACKENDS, mode gateway): they get the /mcp/{name} routes, and <public URL>/mcp/<name> joins the JWT authorizer's audiences."
  type        = list(string)
  default     = []
}

variable "jwt_authorizer_enabled" {
  description = "Whether POST /mcp passes API Gateway's JWT authorizer before it reaches the function (gatehouse verifies the token again either way)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource of the module that takes them."
  type        = map(string)
  default     = {}
}
