variable "name" {
  description = "Name prefix of every resource (for example tripclick-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC. Public and private /24s (by default) are carved out of it in pairs, one pair per availability zone."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "The vpc_cidr must be a valid IPv4 CIDR of size /24 or larger, for example 10.0.0.0/16."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for each subnet: 8 turns a /16 into /24 subnets."
  type        = number
  default     = 8

  validation {
    condition     = var.subnet_newbits >= 2 && var.subnet_newbits <= 12
    error_message = "The subnet_newbits must be between 2 and 12."
  }
}

variable "az_count" {
  description = "How many availability zones get a public and a private subnet (1-3). Ignored when azs is set."
  type        = number
  default     = 1

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 3
    error_message = "The az_count must be 1, 2 or 3."
  }
}

variable "azs" {
  description = "Availability zones to use, for example [\"ap-northeast-2a\"]. Optional: empty picks the first az_count zones of the region."
  type        = list(string)
  default     = []
}

variable "enable_nat_gateway" {
  description = "Whether private subnets get a NAT gateway for package installs. Turn it off to save its hourly cost once hosts are provisioned (S3 stays reachable through the gateway endpoint)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days to keep the VPC flow logs (rejected traffic) in CloudWatch Logs. Valid values are the ones CloudWatch accepts, for example 365."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "The flow_log_retention_days must be a retention CloudWatch Logs accepts, for example 30, 90 or 365."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
