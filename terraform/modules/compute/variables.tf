# Sizing variables are non-nullable: a null (an attribute the platform module's fleet leaves
# out) keeps the default, so section 5 of the architecture is written down here only.

variable "name" {
  description = "Name prefix of every resource (for example tripclick-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets (web servers, Airflow jump host); instances are spread over them in order."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) > 0
    error_message = "At least one public subnet is needed."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (Kafka, Spark, gold); instances are spread over them in order."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "At least one private subnet is needed."
  }
}

variable "security_group_ids" {
  description = "Security group ID per role, as the security module outputs it: web, kafka, spark, airflow, gold."
  type        = map(string)

  validation {
    condition     = alltrue([for role in ["web", "kafka", "spark", "airflow", "gold"] : contains(keys(var.security_group_ids), role)])
    error_message = "The security_group_ids need an entry for each of web, kafka, spark, airflow and gold."
  }
}

variable "instance_profile_names" {
  description = "Instance profile name per role, as the iam module outputs it: web, kafka, spark, airflow, gold."
  type        = map(string)

  validation {
    condition     = alltrue([for role in ["web", "kafka", "spark", "airflow", "gold"] : contains(keys(var.instance_profile_names), role)])
    error_message = "The instance_profile_names need an entry for each of web, kafka, spark, airflow and gold."
  }
}

variable "ami_id" {
  description = "AMI of every host. Optional: null looks up the newest Canonical Ubuntu 22.04 LTS (amd64) image."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "The ami_id must look like ami-0123456789abcdef0, or be null."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for the ubuntu user on every host (Ansible's key). Optional: null launches hosts without a key pair."
  type        = string
  default     = null

  validation {
    condition     = var.ssh_public_key == null || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "The ssh_public_key must be an OpenSSH public key line (ssh-ed25519 ..., ssh-rsa ... or ecdsa-sha2-...)."
  }
}

variable "root_volume_kms_key_id" {
  description = "KMS key ARN for the root volumes. Optional: null uses the account's default EBS key; volumes are encrypted either way."
  type        = string
  default     = null
}

variable "burstable_cpu_credits" {
  description = "CPU credit mode of the t3 hosts (Kafka, gold): standard caps cost at the hourly price, unlimited lets them burst for a fee."
  type        = string
  default     = "standard"
  nullable    = false

  validation {
    condition     = contains(["standard", "unlimited"], var.burstable_cpu_credits)
    error_message = "The burstable_cpu_credits must be standard or unlimited."
  }
}

variable "termination_protection" {
  description = "Whether the instances refuse API termination (turn it on where the fleet must outlive a careless destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "web_instance_count" {
  description = "Number of web servers; each runs one producer (its index is the record's source)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.web_instance_count >= 1 && var.web_instance_count <= 10
    error_message = "The web_instance_count must be between 1 and 10."
  }
}

variable "web_instance_type" {
  description = "Instance type of the web servers."
  type        = string
  default     = "m5.large"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.web_instance_type))
    error_message = "The web_instance_type must be an EC2 instance type such as m5.large."
  }
}

variable "web_root_volume_size" {
  description = "Root volume of each web server in GiB (Docker images and the day's log files)."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.web_root_volume_size >= 8
    error_message = "The web_root_volume_size must be at least 8 GiB."
  }
}

variable "kafka_instance_count" {
  description = "Number of Kafka instances; the brokers are spread over them round-robin (1 instance holds all brokers)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.kafka_instance_count >= 1 && var.kafka_instance_count <= 9
    error_message = "The kafka_instance_count must be between 1 and 9."
  }

  validation {
    condition     = var.kafka_instance_count <= var.kafka_broker_count
    error_message = "The kafka_instance_count must not exceed kafka_broker_count: a Kafka host without a broker does nothing."
  }
}

variable "kafka_broker_count" {
  description = "Number of KRaft brokers (each also a controller). The topic has replication 2, so at least 2; 3 keeps a quorum through one failure."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.kafka_broker_count >= 2 && var.kafka_broker_count <= 9
    error_message = "The kafka_broker_count must be between 2 and 9."
  }
}

variable "kafka_instance_type" {
  description = "Instance type of the Kafka hosts."
  type        = string
  default     = "t3.large"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.kafka_instance_type))
    error_message = "The kafka_instance_type must be an EC2 instance type such as t3.large."
  }
}

variable "kafka_root_volume_size" {
  description = "Root volume of each Kafka host in GiB (the brokers' logs live on it)."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.kafka_root_volume_size >= 8
    error_message = "The kafka_root_volume_size must be at least 8 GiB."
  }
}

variable "kafka_broker_port" {
  description = "TLS listener port of the first broker on a host; the next one on the same host adds kafka_port_step. Must match the security module."
  type        = number
  default     = 9093
  nullable    = false
}

variable "kafka_controller_port" {
  description = "TLS port of the first KRaft controller on a host; the next one on the same host adds kafka_port_step. Must match the security module."
  type        = number
  default     = 9094
  nullable    = false
}

variable "kafka_port_step" {
  description = "Port distance between two brokers (and two controllers) on the same host. Must match the security module."
  type        = number
  default     = 10
  nullable    = false
}

variable "spark_master_instance_type" {
  description = "Instance type of the Spark master host."
  type        = string
  default     = "m5.large"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.spark_master_instance_type))
    error_message = "The spark_master_instance_type must be an EC2 instance type such as m5.large."
  }
}

variable "spark_master_runs_workers" {
  description = "Whether the Spark master host also runs spark_workers_per_instance workers (the original deployment: master and 2 workers on one host)."
  type        = bool
  default     = true
  nullable    = false
}

variable "spark_workers_per_instance" {
  description = "Spark standalone workers on each host that runs workers."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.spark_workers_per_instance >= 1 && var.spark_workers_per_instance <= 8
    error_message = "The spark_workers_per_instance must be between 1 and 8."
  }
}

variable "spark_worker_instance_count" {
  description = "Extra hosts that run only Spark workers (0 keeps everything on the master host)."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.spark_worker_instance_count >= 0 && var.spark_worker_instance_count <= 20
    error_message = "The spark_worker_instance_count must be between 0 and 20."
  }

  validation {
    condition     = var.spark_master_runs_workers || var.spark_worker_instance_count > 0
    error_message = "With spark_master_runs_workers = false, spark_worker_instance_count must be 1 or more, or Spark has no workers."
  }
}

variable "spark_worker_instance_type" {
  description = "Instance type of the extra Spark worker hosts."
  type        = string
  default     = "m5.large"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.spark_worker_instance_type))
    error_message = "The spark_worker_instance_type must be an EC2 instance type such as m5.large."
  }
}

variable "spark_root_volume_size" {
  description = "Root volume of each Spark host in GiB (shuffle spill and the streaming job's local state)."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.spark_root_volume_size >= 8
    error_message = "The spark_root_volume_size must be at least 8 GiB."
  }
}

variable "airflow_instance_type" {
  description = "Instance type of the Airflow host (also the SSH jump host)."
  type        = string
  default     = "m5.large"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.airflow_instance_type))
    error_message = "The airflow_instance_type must be an EC2 instance type such as m5.large."
  }
}

variable "airflow_root_volume_size" {
  description = "Root volume of the Airflow host in GiB."
  type        = number
  default     = 16
  nullable    = false

  validation {
    condition     = var.airflow_root_volume_size >= 8
    error_message = "The airflow_root_volume_size must be at least 8 GiB."
  }
}

variable "gold_instance_type" {
  description = "Instance type of the gold host (PostgreSQL and Superset)."
  type        = string
  default     = "t3.small"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.gold_instance_type))
    error_message = "The gold_instance_type must be an EC2 instance type such as t3.small."
  }
}

variable "gold_root_volume_size" {
  description = "Root volume of the gold host in GiB (PostgreSQL data)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.gold_root_volume_size >= 8
    error_message = "The gold_root_volume_size must be at least 8 GiB."
  }
}

variable "lake_bucket_name" {
  description = "Name of the lake bucket, written into the hosts' tags so the dynamic inventory can pass it on."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
