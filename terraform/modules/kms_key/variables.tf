variable "name" {
  description = "Name of the key: its alias (alias/<name>) and Name tag, for example the bucket or topic it encrypts."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,250}$", var.name)) && !startswith(var.name, "aws")
    error_message = "The name must be 1-250 letters, digits, slashes, underscores or hyphens, and not start with aws (a KMS alias)."
  }
}

variable "description" {
  description = "What the key encrypts, shown in the KMS console."
  type        = string
}

variable "tags" {
  description = "Tags merged into every resource of the module (the caller's, with its Module tag)."
  type        = map(string)
  default     = {}
}
