variable "bucket_name" {
  description = "Name of the lake bucket; globally unique, so include the account ID (the platform module does)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket_name))
    error_message = "The bucket_name must be 3-63 lower-case letters, digits, dots or hyphens, start and end with a letter or digit, and not look like an IP address."
  }
}

variable "force_destroy" {
  description = "Whether destroy deletes a lake that still holds objects. Leave false where the data matters; dev turns it on so make destroy leaves nothing behind."
  type        = bool
  default     = false
}

variable "bronze_prefix" {
  description = "Key prefix of the bronze layer, whose old partitions move to cheaper storage."
  type        = string
  default     = "bronze/"

  validation {
    condition     = can(regex("^[a-z0-9_-]+/$", var.bronze_prefix))
    error_message = "The bronze_prefix must be one folder name ending in a slash, for example bronze/."
  }
}

variable "bronze_infrequent_access_days" {
  description = "Days after which bronze objects move to S3 Standard-IA (30 or more, an S3 rule). Bronze is the replay archive: read again only when a day is rebuilt."
  type        = number
  default     = 30

  validation {
    condition     = var.bronze_infrequent_access_days >= 30
    error_message = "The bronze_infrequent_access_days must be 30 or more (S3 keeps objects 30 days in Standard first)."
  }
}

variable "bronze_glacier_ir_days" {
  description = "Days after which bronze objects move to Glacier Instant Retrieval; must be at least 30 days after the Standard-IA move."
  type        = number
  default     = 90

  validation {
    condition     = var.bronze_glacier_ir_days >= var.bronze_infrequent_access_days + 30
    error_message = "The bronze_glacier_ir_days must be at least bronze_infrequent_access_days + 30."
  }
}

variable "expiration_days" {
  description = "Days after which the objects under each lake prefix expire, by prefix (one folder name ending in a slash). Bronze must be kept longest and at least 90 days past its Glacier IR move (that class's minimum); docs/retention.md explains each default. An expired object stays restorable as a replaced version for noncurrent_version_expiration_days."
  type        = map(number)
  default = {
    "bronze/"       = 730
    "silver/"       = 365
    "reports/"      = 730
    "quarantine/"   = 90
    "_checkpoints/" = 14
    "backups/"      = 30
  }

  validation {
    condition     = alltrue([for prefix, days in var.expiration_days : can(regex("^[a-z0-9_-]+/$", prefix)) && days >= 1 && floor(days) == days])
    error_message = "Each expiration_days key must be one folder name ending in a slash (bronze/), each value a whole number of days, 1 or more."
  }

  validation {
    condition     = contains(keys(var.expiration_days), var.bronze_prefix) && alltrue([for days in values(var.expiration_days) : lookup(var.expiration_days, var.bronze_prefix, 0) >= days])
    error_message = "The expiration_days map must name the bronze_prefix, and bronze must be kept at least as long as every other prefix."
  }

  validation {
    condition     = lookup(var.expiration_days, var.bronze_prefix, 0) >= var.bronze_glacier_ir_days + 90
    error_message = "Bronze must expire at least 90 days after bronze_glacier_ir_days (Glacier IR bills 90 days at least)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept (the undo window of a re-run)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "The noncurrent_version_expiration_days must be 1 or more."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
