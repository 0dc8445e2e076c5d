output "security_group_ids" {
  description = "Security group ID per role: web, kafka, spark, airflow, gold."
  value       = { for role, sg in aws_security_group.this : role => sg.id }
}

output "kafka_broker_ports" {
  description = "TLS broker ports the Kafka group accepts, one per broker that shares a host."
  value       = local.kafka_broker_ports
}

output "kafka_controller_ports" {
  description = "TLS controller ports the Kafka group accepts (from Kafka hosts only), one per controller on a host."
  value       = local.kafka_controller_ports
}

output "ingress_flows" {
  description = "The flows between roles the groups allow, keyed by name: target, source, ports, purpose."
  value       = local.group_flows
}

output "ports" {
  description = "The ports the groups open, by service: ssh, docker_tls, kafka_broker, kafka_controller, airflow_ui, spark_master_ui, superset, postgres."
  value = {
    ssh              = 22
    docker_tls       = var.docker_tls_port
    kafka_broker     = var.kafka_broker_port
    kafka_controller = var.kafka_controller_port
    kafka_port_step  = var.kafka_port_step
    airflow_ui       = var.airflow_ui_port
    spark_master_ui  = var.spark_master_ui_port
    superset         = var.superset_port
    postgres         = var.postgres_port
  }
}
