# Port variables are non-nullable: a null from the caller keeps the default.

variable "name" {
  description = "Name prefix of every resource (for example tripclick-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the groups belong to."
  type        = string
}

variable "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC: hosts may open connections anywhere inside it (each group's ingress decides what is accepted)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "The vpc_cidr_block must be a valid IPv4 CIDR."
  }
}

variable "admin_cidr_blocks" {
  description = "IPv4 CIDRs of the operators allowed to reach SSH and the Airflow UI on the jump host, for example [\"203.0.113.7/32\"]. Optional: empty means no access from outside the VPC. The whole internet (0.0.0.0/0) is refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.admin_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "Every admin_cidr_blocks entry must be a valid IPv4 CIDR, for example 203.0.113.7/32."
  }

  validation {
    condition     = alltrue([for cidr in var.admin_cidr_blocks : !can(cidrhost(cidr, 0)) || tonumber(split("/", cidr)[1]) >= 8])
    error_message = "The admin_cidr_blocks must name your own networks: 0.0.0.0/0 and other blocks larger than /8 are refused."
  }
}

variable "docker_tls_port" {
  description = "Port of the web servers' Docker API, TLS only. 2375 (plain Docker API) is refused."
  type        = number
  default     = 2376
  nullable    = false

  validation {
    condition     = var.docker_tls_port != 2375 && var.docker_tls_port > 1023 && var.docker_tls_port < 65536
    error_message = "The docker_tls_port must be an unprivileged port other than 2375 (the plain-text Docker API)."
  }
}

variable "kafka_broker_port" {
  description = "TLS (SSL) listener port of the first Kafka broker on a host, used by clients and for replication; the next broker on the same host adds kafka_port_step. Kafka on AWS has no PLAINTEXT listener."
  type        = number
  default     = 9093
  nullable    = false

  validation {
    condition     = var.kafka_broker_port > 1023 && var.kafka_broker_port < 65000
    error_message = "The kafka_broker_port must be an unprivileged port below 65000."
  }
}

variable "kafka_controller_port" {
  description = "TLS (SSL) port of the first KRaft controller on a host; the next controller on the same host adds kafka_port_step."
  type        = number
  default     = 9094
  nullable    = false

  validation {
    condition     = var.kafka_controller_port > 1023 && var.kafka_controller_port < 65000
    error_message = "The kafka_controller_port must be an unprivileged port below 65000."
  }
}

variable "kafka_port_step" {
  description = "Port distance between two brokers (and two controllers) on the same host, as the Ansible kafka layout places them."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.kafka_port_step >= 2 && var.kafka_port_step <= 1000
    error_message = "The kafka_port_step must be between 2 and 1000."
  }
}

variable "kafka_brokers_per_instance" {
  description = "Most Kafka brokers that share one instance: sizes the broker and controller port ranges."
  type        = number
  default     = 3

  validation {
    condition     = var.kafka_brokers_per_instance >= 1 && var.kafka_brokers_per_instance <= 9
    error_message = "The kafka_brokers_per_instance must be between 1 and 9."
  }
}

variable "airflow_ui_port" {
  description = "Port of the Airflow web UI (api-server) on the jump host."
  type        = number
  default     = 8080
  nullable    = false
}

variable "spark_master_ui_port" {
  description = "Port of the Spark master's web UI, reached through an SSH tunnel over the jump host."
  type        = number
  default     = 8080
  nullable    = false
}

variable "superset_port" {
  description = "Port of Superset on the gold host, reached through an SSH tunnel over the jump host."
  type        = number
  default     = 8088
  nullable    = false
}

variable "postgres_port" {
  description = "Port of PostgreSQL (the gold database) on the gold host."
  type        = number
  default     = 5432
  nullable    = false
}

variable "node_exporter_port" {
  description = "Port of the node exporter on every host, scraped by Prometheus on the airflow host."
  type        = number
  default     = 9100
  nullable    = false

  validation {
    condition     = var.node_exporter_port > 1023 && var.node_exporter_port < 65536
    error_message = "The node_exporter_port must be an unprivileged port."
  }
}

variable "postgres_exporter_port" {
  description = "Port of the PostgreSQL exporter on the gold host, scraped by Prometheus on the airflow host."
  type        = number
  default     = 9187
  nullable    = false

  validation {
    condition     = var.postgres_exporter_port > 1023 && var.postgres_exporter_port < 65536
    error_message = "The postgres_exporter_port must be an unprivileged port."
  }
}

variable "pushgateway_port" {
  description = "Port of the Pushgateway on the airflow host, where the Spark jobs push the pipeline's figures."
  type        = number
  default     = 9091
  nullable    = false

  validation {
    condition     = var.pushgateway_port > 1023 && var.pushgateway_port < 65536
    error_message = "The pushgateway_port must be an unprivileged port."
  }
}

variable "kafka_jmx_exporter_port" {
  description = "Port of the JMX exporter agent of the first Kafka broker on a host, scraped by Prometheus on the airflow host; the next broker on the same host adds kafka_port_step."
  type        = number
  default     = 9095
  nullable    = false

  validation {
    condition     = var.kafka_jmx_exporter_port > 1023 && var.kafka_jmx_exporter_port < 65000
    error_message = "The kafka_jmx_exporter_port must be an unprivileged port below 65000."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
