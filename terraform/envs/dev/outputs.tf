# The interface of the environment: `make apply` turns these into the Ansible inventory
# (terraform/scripts/write_inventory.py reads `terraform output -json`).

output "environment" {
  description = "Environment name."
  value       = module.platform.environment
}

output "aws_region" {
  description = "Region the platform runs in."
  value       = module.platform.aws_region
}

output "lake_bucket_name" {
  description = "Name of the lake bucket."
  value       = module.platform.lake_bucket_name
}

output "lake_url" {
  description = "Root of the lake as Spark reads it (s3a://<bucket>/)."
  value       = module.platform.lake_url
}

output "alerts_topic_arn" {
  description = "ARN of the SNS topic of the platform's alerts."
  value       = module.platform.alerts_topic_arn
}

output "ssm_parameter_prefix" {
  description = "Parameter Store folder of the secrets."
  value       = module.platform.ssm_parameter_prefix
}

output "jump_host_public_ip" {
  description = "Elastic IP of the Airflow host, the SSH jump host."
  value       = module.platform.jump_host_public_ip
}

output "hosts" {
  description = "Every host by name: role, inventory groups, addresses, instance, zone, Kafka node IDs, Spark workers."
  value       = module.platform.hosts
}

output "kafka_brokers" {
  description = "Every KRaft node: node_id, host, private_ip, broker_port and controller_port (TLS)."
  value       = module.platform.kafka_brokers
}

output "ports" {
  description = "The service ports the security groups open."
  value       = module.platform.ports
}

output "ui_addresses" {
  description = "How to open the Airflow, Superset, Spark master, Prometheus and Alertmanager UIs."
  value       = module.platform.ui_addresses
}
