variable "aws_region" {
  description = "AWS region of the environment, for example ap-northeast-2 (Seoul, the default)."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be a region name such as ap-northeast-2 or eu-west-1."
  }
}

variable "admin_cidr_blocks" {
  description = "IPv4 CIDRs allowed to SSH to the jump host and open the Airflow UI, for example [\"203.0.113.7/32\"]. Optional: empty means no access from outside; 0.0.0.0/0 is refused."
  type        = list(string)
  default     = []
}

variable "alert_email" {
  description = "Email address that gets the platform's alerts (subscribed to its SNS topic; AWS mails a confirmation link first). Optional: empty subscribes nobody."
  type        = string
  default     = ""
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the ubuntu user on every host (the key Ansible connects with). Optional: null launches hosts without a key pair."
  type        = string
  default     = null
}
