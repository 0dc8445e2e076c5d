variable "name" {
  description = "Name prefix of every resource (for example tripclick-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket the Spark and Airflow roles read and write."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.lake_bucket_arn))
    error_message = "The lake_bucket_arn must be a bucket ARN, for example arn:aws:s3:::tripclick-dev-lake-123456789012."
  }
}

variable "lake_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the lake."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.lake_kms_key_arn))
    error_message = "The lake_kms_key_arn must be a KMS key ARN."
  }
}

variable "lake_roles" {
  description = "Roles whose hosts read and write the lake. Valid values: web, kafka, spark, airflow, gold."
  type        = list(string)
  default     = ["spark"]

  validation {
    condition     = alltrue([for role in var.lake_roles : contains(["web", "kafka", "spark", "airflow", "gold"], role)])
    error_message = "Each lake_roles entry must be one of web, kafka, spark, airflow, gold."
  }
}

variable "lake_list_roles" {
  description = "Roles whose hosts only list the lake's keys (Airflow's sensors wait for a day's files). Valid values: web, kafka, spark, airflow, gold."
  type        = list(string)
  default     = ["airflow"]

  validation {
    condition     = alltrue([for role in var.lake_list_roles : contains(["web", "kafka", "spark", "airflow", "gold"], role)])
    error_message = "Each lake_list_roles entry must be one of web, kafka, spark, airflow, gold."
  }
}

variable "airflow_backup_roles" {
  description = "Roles whose hosts back Airflow's metadata database up into the lake's airflow_backups_prefix (the nightly maintenance DAG), and may touch no other object of it. Valid values: web, kafka, spark, airflow, gold."
  type        = list(string)
  default     = ["airflow"]

  validation {
    condition     = alltrue([for role in var.airflow_backup_roles : contains(["web", "kafka", "spark", "airflow", "gold"], role)])
    error_message = "Each airflow_backup_roles entry must be one of web, kafka, spark, airflow, gold."
  }
}

variable "airflow_backups_prefix" {
  description = "Prefix of the lake bucket that holds Airflow's metadata backups (the lake layout's backups/airflow, with a trailing slash)."
  type        = string
  default     = "backups/airflow/"

  validation {
    condition     = can(regex("^([a-z0-9_-]+/)+$", var.airflow_backups_prefix))
    error_message = "The airflow_backups_prefix must be a key prefix ending with a slash, for example backups/airflow/."
  }
}

variable "alerts_topic_arn" {
  description = "ARN of the SNS topic the platform's alerts are published to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alerts_topic_arn))
    error_message = "The alerts_topic_arn must be an SNS topic ARN, for example arn:aws:sns:ap-northeast-2:123456789012:tripclick-dev-alerts."
  }
}

variable "alerts_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alerts topic."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.alerts_kms_key_arn))
    error_message = "The alerts_kms_key_arn must be a KMS key ARN."
  }
}

variable "alert_publish_roles" {
  description = "Roles whose hosts publish to the alerts topic (Airflow's failure callback). Valid values: web, kafka, spark, airflow, gold."
  type        = list(string)
  default     = ["airflow"]

  validation {
    condition     = alltrue([for role in var.alert_publish_roles : contains(["web", "kafka", "spark", "airflow", "gold"], role)])
    error_message = "Each alert_publish_roles entry must be one of web, kafka, spark, airflow, gold."
  }
}

variable "ssm_parameter_prefix" {
  description = "SSM Parameter Store path of the platform's secrets, for example /tripclick/dev. A role reads <prefix>/<folder>/* for each of its parameter_folders and <prefix>/common/* (SecureStrings under the default aws/ssm key)."
  type        = string

  validation {
    condition     = can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.ssm_parameter_prefix))
    error_message = "The ssm_parameter_prefix must be an absolute path without a trailing slash, for example /tripclick/dev."
  }
}

variable "parameter_folders" {
  description = "Parameter Store folders (under ssm_parameter_prefix) each role may read: the services its hosts run. Keys must be web, kafka, spark, airflow and gold."
  type        = map(list(string))
  default = {
    web     = ["web", "producer"]
    kafka   = ["kafka"]
    spark   = ["spark"]
    airflow = ["airflow"]
    gold    = ["gold", "postgresql", "superset"]
  }

  validation {
    condition     = alltrue([for role in ["web", "kafka", "spark", "airflow", "gold"] : contains(keys(var.parameter_folders), role)])
    error_message = "The parameter_folders need an entry for each of web, kafka, spark, airflow and gold."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
