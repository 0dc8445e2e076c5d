output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "aws_region" {
  description = "Region the platform runs in."
  value       = data.aws_region.current.name
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "lake_bucket_name" {
  description = "Name of the lake bucket."
  value       = module.lake.lake_bucket_name
}

output "lake_url" {
  description = "Root of the lake as Spark reads it (s3a://<bucket>/)."
  value       = module.lake.lake_url
}

output "alerts_topic_arn" {
  description = "ARN of the SNS topic of the platform's alerts (Airflow's tripclick_alerts_topic_arn)."
  value       = module.alerts.topic_arn
}

output "ssm_parameter_prefix" {
  description = "Parameter Store folder of the secrets: <prefix>/<role>/* and <prefix>/common/*."
  value       = local.ssm_parameter_prefix
}

output "jump_host_public_ip" {
  description = "Elastic IP of the Airflow host, the SSH jump host for every other host."
  value       = module.compute.jump_host_public_ip
}

output "hosts" {
  description = "Every host by name (<role>-<index>): role, inventory groups, addresses, instance, zone, Kafka node IDs and Spark worker count."
  value       = module.compute.hosts
}

output "kafka_brokers" {
  description = "Every KRaft node: node_id, host, private_ip, broker_port and controller_port (both TLS)."
  value       = module.compute.kafka_brokers
}

output "ports" {
  description = "The service ports the security groups open, by service."
  value       = module.security.ports
}

locals {
  # Prometheus and Alertmanager listen on the jump host's loopback (ansible/roles/monitoring):
  # no security group opens them, so their ports are the role's, not the security module's.
  prometheus_port   = 9090
  alertmanager_port = 9093
}

output "ui_addresses" {
  description = "How to open each web UI: through an SSH tunnel over the jump host (Airflow and Prometheus run on it), since no UI is open to admin_cidr_blocks."
  value = {
    airflow = format(
      "ssh -N -L 8080:127.0.0.1:%d ubuntu@%s, then http://localhost:8080",
      module.security.ports.airflow_ui, module.compute.jump_host_public_ip,
    )
    superset = format(
      "ssh -N -L 8088:%s:%d ubuntu@%s, then http://localhost:8088",
      module.compute.hosts["gold-0"].private_ip, module.security.ports.superset, module.compute.jump_host_public_ip,
    )
    spark_master = format(
      "ssh -N -L 18080:%s:%d ubuntu@%s, then http://localhost:18080",
      module.compute.hosts["spark-master-0"].private_ip, module.security.ports.spark_master_ui, module.compute.jump_host_public_ip,
    )
    prometheus = format(
      "ssh -N -L 9090:127.0.0.1:%d ubuntu@%s, then http://localhost:9090",
      local.prometheus_port, module.compute.jump_host_public_ip,
    )
    alertmanager = format(
      "ssh -N -L 9093:127.0.0.1:%d ubuntu@%s, then http://localhost:9093",
      local.alertmanager_port, module.compute.jump_host_public_ip,
    )
  }
}
