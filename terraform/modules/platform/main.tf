# The whole platform of one environment: the environments under envs/ differ only in the
# arguments they pass here.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  name = "${var.project}-${var.environment}"

  # Bucket names are global: the account ID keeps two accounts' lakes apart.
  lake_bucket_name = "${local.name}-lake-${data.aws_caller_identity.current.account_id}"

  ssm_parameter_prefix = "/${var.project}/${var.environment}"

  # The security groups need the brokers' port range before the instances exist, so the
  # layout is worked out here too; the fallbacks are the compute module's defaults
  # (3 brokers on 1 host), which a test keeps in step.
  kafka_brokers_per_instance = ceil(
    coalesce(var.fleet.kafka_broker_count, 3) / coalesce(var.fleet.kafka_instance_count, 1)
  )
}

module "network" {
  source = "../network"

  name                    = local.name
  vpc_cidr                = var.vpc_cidr
  az_count                = var.az_count
  enable_nat_gateway      = var.enable_nat_gateway
  flow_log_retention_days = var.flow_log_retention_days

  tags = var.tags
}

module "security" {
  source = "../security"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  vpc_cidr_block             = module.network.vpc_cidr_block
  admin_cidr_blocks          = var.admin_cidr_blocks
  kafka_broker_port          = var.kafka_broker_port
  kafka_controller_port      = var.kafka_controller_port
  kafka_port_step            = var.kafka_port_step
  kafka_brokers_per_instance = local.kafka_brokers_per_instance

  tags = var.tags
}

module "lake" {
  source = "../lake"

  bucket_name   = local.lake_bucket_name
  force_destroy = var.lake_force_destroy

  tags = var.tags
}

module "alerts" {
  source = "../alerts"

  name        = "${local.name}-alerts"
  alert_email = var.alert_email

  tags = var.tags
}

module "iam" {
  source = "../iam"

  name                 = local.name
  lake_bucket_arn      = module.lake.lake_bucket_arn
  lake_kms_key_arn     = module.lake.lake_kms_key_arn
  alerts_topic_arn     = module.alerts.topic_arn
  alerts_kms_key_arn   = module.alerts.kms_key_arn
  ssm_parameter_prefix = local.ssm_parameter_prefix

  tags = var.tags
}

module "compute" {
  source = "../compute"

  name                   = local.name
  public_subnet_ids      = module.network.public_subnet_ids
  private_subnet_ids     = module.network.private_subnet_ids
  security_group_ids     = module.security.security_group_ids
  instance_profile_names = module.iam.instance_profile_names
  ami_id                 = var.ami_id
  ssh_public_key         = var.ssh_public_key
  lake_bucket_name       = module.lake.lake_bucket_name
  kafka_broker_port      = var.kafka_broker_port
  kafka_controller_port  = var.kafka_controller_port
  kafka_port_step        = var.kafka_port_step

  web_instance_count          = var.fleet.web_instance_count
  web_instance_type           = var.fleet.web_instance_type
  web_root_volume_size        = var.fleet.web_root_volume_size
  kafka_instance_count        = var.fleet.kafka_instance_count
  kafka_broker_count          = var.fleet.kafka_broker_count
  kafka_instance_type         = var.fleet.kafka_instance_type
  kafka_root_volume_size      = var.fleet.kafka_root_volume_size
  spark_master_instance_type  = var.fleet.spark_master_instance_type
  spark_master_runs_workers   = var.fleet.spark_master_runs_workers
  spark_workers_per_instance  = var.fleet.spark_workers_per_instance
  spark_worker_instance_count = var.fleet.spark_worker_instance_count
  spark_worker_instance_type  = var.fleet.spark_worker_instance_type
  spark_root_volume_size      = var.fleet.spark_root_volume_size
  airflow_instance_type       = var.fleet.airflow_instance_type
  airflow_root_volume_size    = var.fleet.airflow_root_volume_size
  gold_instance_type          = var.fleet.gold_instance_type
  gold_root_volume_size       = var.fleet.gold_root_volume_size
  burstable_cpu_credits       = var.fleet.burstable_cpu_credits
  termination_protection      = var.fleet.termination_protection

  tags = var.tags
}
