output "hosts" {
  description = "Every host by name (<role>-<index>): role, inventory groups, addresses, instance ID and type, zone, Kafka node IDs and Spark worker count."
  value = {
    for key, spec in local.instances : key => {
      name                   = aws_instance.this[key].tags["Name"]
      role                   = spec.role
      index                  = spec.index
      groups                 = spec.groups
      instance_id            = aws_instance.this[key].id
      instance_type          = spec.instance_type
      availability_zone      = aws_instance.this[key].availability_zone
      private_ip             = aws_instance.this[key].private_ip
      public_ip              = spec.role == "airflow" ? aws_eip.jump.public_ip : aws_instance.this[key].public_ip
      kafka_node_ids         = spec.kafka_node_ids
      spark_worker_instances = spec.spark_workers
    }
  }
}

output "jump_host_public_ip" {
  description = "Elastic IP of the Airflow host, the SSH jump host for every other host."
  value       = aws_eip.jump.public_ip
}

output "kafka_brokers_per_instance" {
  description = "Most brokers one Kafka host carries (sizes the port ranges)."
  value       = local.kafka_brokers_per_instance
}

output "kafka_brokers" {
  description = "Every KRaft node: node_id, host name, private_ip, broker_port (TLS) and controller_port (TLS)."
  value = flatten([
    for i in range(var.kafka_instance_count) : [
      for position, node_id in local.kafka_node_ids[i] : {
        node_id         = node_id
        host            = "kafka-${i}"
        private_ip      = aws_instance.this["kafka-${i}"].private_ip
        broker_port     = var.kafka_broker_port + position * var.kafka_port_step
        controller_port = var.kafka_controller_port + position * var.kafka_port_step
      }
    ]
  ])
}

output "ami_id" {
  description = "AMI the fleet was launched from."
  value       = local.ami_id
}
