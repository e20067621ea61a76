variable "name" {
  description = "Name of the user pool and prefix of its app client."
  type        = string

  validation {
    condition     = can(regex("^[\\w\\s+=,.@-]{1,128}$", var.name))
    error_message = "name must be 1-128 characters of letters, digits, spaces and + = , . @ - _."
  }
}

variable "domain_prefix" {
  description = "Prefix of the hosted UI / managed login domain, https://<prefix>.auth.<region>.amazoncognito.com. Unique per region; must not contain aws, amazon or cognito."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", var.domain_prefix))
    error_message = "domain_prefix must be 1-63 lowercase letters, digits and hyphens, not start or end with a hyphen, and not contain aws, amazon or cognito."
  }
}

variable "managed_login_version" {
  description = "1 = classic hosted UI (works out of the box); 2 = managed login, which also needs a branding style created in the console or API."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.managed_login_version)
    error_message = "managed_login_version must be 1 (hosted UI) or 2 (managed login)."
  }
}

variable "callback_urls" {
  description = "Redirect URIs of gatehouse's app client: gatehouse's <public URL>/callback."
  type        = list(string)

  validation {
    condition     = length(var.callback_urls) > 0 && alltrue([for u in var.callback_urls : can(regex("^https://[^#]+$", u))])
    error_message = "callback_urls must be a non-empty list of https URLs without fragments."
  }
}

variable "logout_urls" {
  description = "Sign-out URLs of the app client (where the hosted UI's /logout may send the browser)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.logout_urls : can(regex("^https://[^#]+$", u))])
    error_message = "logout_urls must be https URLs without fragments."
  }
}

variable "user_pool_tier" {
  description = "Cognito feature plan: LITE, ESSENTIALS or PLUS. PLUS is required for threat protection (advanced security)."
  type        = string
  default     = "ESSENTIALS"

  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.user_pool_tier)
    error_message = "user_pool_tier must be LITE, ESSENTIALS or PLUS."
  }
}

variable "advanced_security_mode" {
  description = "Threat protection (advanced security): OFF, AUDIT or ENFORCED. Anything but OFF needs user_pool_tier = PLUS and is billed per active user."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }

  validation {
    condition     = var.advanced_security_mode == "OFF" || var.user_pool_tier == "PLUS"
    error_message = "advanced_security_mode AUDIT or ENFORCED is available only with user_pool_tier = PLUS."
  }
}

variable "mfa_configuration" {
  description = "MFA for the pool's own users: OFF, OPTIONAL (users may enrol a TOTP app) or ON (every user must). Users who sign in through an enterprise IdP get that IdP's MFA."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "password_policy" {
  description = "Password rules for the pool's own users."
  type = object({
    minimum_length                   = optional(number, 12)
    require_lowercase                = optional(bool, true)
    require_uppercase                = optional(bool, true)
    require_numbers                  = optional(bool, true)
    require_symbols                  = optional(bool, false)
    temporary_password_validity_days = optional(number, 7)
    password_history_size            = optional(number)
  })
  default = {}

  validation {
    condition     = var.password_policy.minimum_length >= 8 && var.password_policy.minimum_length <= 99
    error_message = "password_policy.minimum_length must be 8 to 99."
  }
}

variable "allow_self_sign_up" {
  description = "Whether anyone may sign themselves up on the hosted UI. Off: only administrators create users (scripts/bootstrap-users.ts)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Whether Cognito refuses to delete the user pool (ACTIVE or INACTIVE)."
  type        = bool
  default     = true
}

variable "groups" {
  description = "User pool groups; their names reach gatehouse tokens as the groups claim (from cognito:groups), and tools can require them."
  type = map(object({
    description = optional(string)
    precedence  = optional(number)
  }))
  default = {
    engineering = { description = "Engineers: may use the engineering tools", precedence = 20 }
    admins      = { description = "Administrators of gatehouse and its tools", precedence = 10 }
  }

  validation {
    condition     = alltrue([for g in keys(var.groups) : can(regex("^[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]{1,128}$", g))])
    error_message = "Group names must be 1-128 characters without whitespace."
  }
}

variable "identity_providers" {
  description = "Enterprise SSO: SAML or OIDC identity providers federated into the pool, keyed by provider name. SAML takes metadata_url or metadata_file; OIDC takes oidc_issuer and client_id (its secret goes in identity_provider_client_secrets)."
  type = map(object({
    type              = string
    metadata_url      = optional(string)
    metadata_file     = optional(string)
    sign_out          = optional(bool, false)
    oidc_issuer       = optional(string)
    client_id         = optional(string)
    authorize_scopes  = optional(string, "openid email profile")
    attribute_mapping = optional(map(string))
    idp_identifiers   = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for k, p in var.identity_providers : contains(["SAML", "OIDC"], p.type) && can(regex("^[^_\\s][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]{0,31}$", k)) && k != "COGNITO"])
    error_message = "Each identity provider needs type SAML or OIDC and a name of 1-32 non-space characters (not COGNITO, not starting with _)."
  }

  validation {
    condition     = alltrue([for p in values(var.identity_providers) : p.type != "SAML" || ((p.metadata_url == null) != (p.metadata_file == null))])
    error_message = "A SAML identity provider needs exactly one of metadata_url and metadata_file."
  }

  validation {
    condition     = alltrue([for p in values(var.identity_providers) : p.type != "OIDC" || (p.oidc_issuer != null && p.client_id != null && can(regex("^https://", coalesce(p.oidc_issuer, "x"))))])
    error_message = "An OIDC identity provider needs an https oidc_issuer and a client_id."
  }
}

variable "identity_provider_client_secrets" {
  description = "Client secrets of the OIDC identity providers, keyed like identity_providers. Kept apart so identity_providers stays non-sensitive (it drives for_each)."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "refresh_token_validity_days" {
  description = "Lifetime of Cognito refresh tokens, days. gatehouse refreshes the upstream token when an MCP client refreshes, so keep it at least gatehouse's GRANT_MAX_TTL."
  type        = number
  default     = 90

  validation {
    condition     = var.refresh_token_validity_days >= 1 && var.refresh_token_validity_days <= 3650
    error_message = "refresh_token_validity_days must be 1 to 3650."
  }
}

variable "secret_recovery_window_in_days" {
  description = "Days the deleted client-secret secret can still be restored (0 deletes at once, so a destroyed stack can be re-created straight away)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "Secrets Manager accepts 0 or 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for every resource of the module that takes them."
  type        = map(string)
  default     = {}
}
