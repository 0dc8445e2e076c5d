variable "project" {
  description = "Project name: the first part of every resource name and the Project tag."
  type        = string
  default     = "tripclick"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "The project must be 2-16 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (dev, prod, ...): the second part of every resource name and the Environment tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "The environment must be 2-10 lower-case letters or digits, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "How many availability zones get a public and a private subnet (1-3); hosts of a role are spread over them."
  type        = number
  default     = 1
}

variable "enable_nat_gateway" {
  description = "Whether private hosts get a NAT gateway for package installs (off saves its hourly cost once provisioned)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days to keep the VPC's rejected-flow logs."
  type        = number
  default     = 365
}

variable "admin_cidr_blocks" {
  description = "IPv4 CIDRs of the operators allowed to SSH to the jump host and open the Airflow UI. Optional: empty means no access from outside; 0.0.0.0/0 is refused."
  type        = list(string)
  default     = []
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the ubuntu user on every host. Optional: null launches hosts without a key pair."
  type        = string
  default     = null
}

variable "ami_id" {
  description = "AMI of every host. Optional: null uses the newest Canonical Ubuntu 22.04 LTS image; pin one to roll out new images deliberately."
  type        = string
  default     = null
}

variable "lake_force_destroy" {
  description = "Whether destroy deletes the lake even when it still holds data."
  type        = bool
  default     = false
}

variable "alert_email" {
  description = "Email address subscribed to the alerts topic (a task's final failure in Airflow). Optional: empty subscribes nobody."
  type        = string
  default     = ""
}

variable "kafka_broker_port" {
  description = "TLS listener port of the first Kafka broker on a host (clients and replication). Optional: null keeps the modules' default, 9093."
  type        = number
  default     = null
}

variable "kafka_controller_port" {
  description = "TLS port of the first KRaft controller on a host. Optional: null keeps the modules' default, 9094."
  type        = number
  default     = null
}

variable "kafka_port_step" {
  description = "Port distance between two brokers on one host. Optional: null keeps the modules' default, 10."
  type        = number
  default     = null
}

variable "fleet" {
  description = "Sizes of the fleet. Every attribute is optional: one left out keeps the compute module's default, which is ARCHITECTURE section 5 (web 2 x m5.large, kafka 1 x t3.large with 3 brokers, spark 1 x m5.large running the master and 2 workers, airflow m5.large with 16 GiB, gold t3.small)."
  type = object({
    web_instance_count          = optional(number)
    web_instance_type           = optional(string)
    web_root_volume_size        = optional(number)
    kafka_instance_count        = optional(number)
    kafka_broker_count          = optional(number)
    kafka_instance_type         = optional(string)
    kafka_root_volume_size      = optional(number)
    spark_master_instance_type  = optional(string)
    spark_master_runs_workers   = optional(bool)
    spark_workers_per_instance  = optional(number)
    spark_worker_instance_count = optional(number)
    spark_worker_instance_type  = optional(string)
    spark_root_volume_size      = optional(number)
    airflow_instance_type       = optional(string)
    airflow_root_volume_size    = optional(number)
    gold_instance_type          = optional(string)
    gold_root_volume_size       = optional(number)
    burstable_cpu_credits       = optional(string)
    termination_protection      = optional(bool)
  })
  default = {}
}

variable "tags" {
  description = "Extra tags merged into every resource (Project and Environment are added by the environment's provider default_tags)."
  type        = map(string)
  default     = {}
}
