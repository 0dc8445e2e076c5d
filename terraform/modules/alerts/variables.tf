variable "name" {
  description = "Name of the alerts topic and its key alias (for example tripclick-dev-alerts)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.name))
    error_message = "The name must be 1-256 letters, digits, hyphens or underscores (an SNS topic name)."
  }
}

variable "alert_email" {
  description = "Email address subscribed to the alerts topic. Optional: empty subscribes nobody (subscribe later as docs/runbook.md says)."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "The alert_email must be empty or one email address, for example oncall@example.com."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
