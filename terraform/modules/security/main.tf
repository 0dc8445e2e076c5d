locals {
  # One group per role of ARCHITECTURE section 5; the Spark master and workers share one.
  roles = ["web", "kafka", "spark", "airflow", "gold"]

  # One port per broker (and controller) that shares a host, kafka_port_step apart.
  kafka_broker_ports     = [for slot in range(var.kafka_brokers_per_instance) : var.kafka_broker_port + slot * var.kafka_port_step]
  kafka_controller_ports = [for slot in range(var.kafka_brokers_per_instance) : var.kafka_controller_port + slot * var.kafka_port_step]
  # Each broker's JMX exporter agent serves its metrics on a port of its own, the same step apart.
  kafka_jmx_exporter_ports = [for slot in range(var.kafka_brokers_per_instance) : var.kafka_jmx_exporter_port + slot * var.kafka_port_step]

  # Every flow the platform needs between its roles, and nothing else: target accepts TCP
  # from source on each [first, last] port range.
  group_flows = {
    airflow_to_web_docker_tls = {
      target      = "web"
      source      = "airflow"
      port_ranges = [[var.docker_tls_port, var.docker_tls_port]]
      description = "Airflow DockerOperator runs the producers through the Docker API over TLS"
    }
    airflow_to_web_ssh = {
      target      = "web"
      source      = "airflow"
      port_ranges = [[22, 22]]
      description = "SSH from the jump host (Ansible)"
    }
    airflow_to_kafka_ssh = {
      target      = "kafka"
      source      = "airflow"
      port_ranges = [[22, 22]]
      description = "SSH from the jump host (Ansible)"
    }
    airflow_to_spark_ssh = {
      target      = "spark"
      source      = "airflow"
      port_ranges = [[22, 22]]
      description = "Airflow SSHOperator runs spark-submit on the master; SSH from the jump host (Ansible)"
    }
    airflow_to_gold_ssh = {
      target      = "gold"
      source      = "airflow"
      port_ranges = [[22, 22]]
      description = "SSH from the jump host (Ansible)"
    }
    airflow_to_spark_master_ui = {
      target      = "spark"
      source      = "airflow"
      port_ranges = [[var.spark_master_ui_port, var.spark_master_ui_port]]
      description = "Spark master UI through an SSH tunnel over the jump host"
    }
    airflow_to_gold_superset = {
      target      = "gold"
      source      = "airflow"
      port_ranges = [[var.superset_port, var.superset_port]]
      description = "Superset through an SSH tunnel over the jump host"
    }
    web_to_kafka_brokers = {
      target      = "kafka"
      source      = "web"
      port_ranges = [for port in local.kafka_broker_ports : [port, port]]
      description = "Producers write clicks to the brokers' TLS listeners"
    }
    spark_to_kafka_brokers = {
      target      = "kafka"
      source      = "spark"
      port_ranges = [for port in local.kafka_broker_ports : [port, port]]
      description = "Spark reads the topic from the brokers' TLS listeners"
    }
    kafka_to_kafka_brokers = {
      target      = "kafka"
      source      = "kafka"
      port_ranges = [for port in local.kafka_broker_ports : [port, port]]
      description = "Broker to broker replication over TLS"
    }
    kafka_to_kafka_controllers = {
      target      = "kafka"
      source      = "kafka"
      port_ranges = [for port in local.kafka_controller_ports : [port, port]]
      description = "KRaft controller quorum over TLS"
    }
    spark_to_spark_cluster = {
      target      = "spark"
      source      = "spark"
      port_ranges = [[1024, 65535]]
      description = "Spark standalone: master RPC 7077, workers, and the driver and executor ports Spark picks at run time"
    }
    spark_to_gold_postgres = {
      target      = "gold"
      source      = "spark"
      port_ranges = [[var.postgres_port, var.postgres_port]]
      description = "The gold ETL loads the marts into PostgreSQL"
    }
    # Prometheus runs on the airflow host and scrapes the exporters of the other groups (its
    # own host's over loopback). The Spark master's metrics are served on its UI port, which
    # airflow_to_spark_master_ui already opens.
    airflow_to_web_node_exporter = {
      target      = "web"
      source      = "airflow"
      port_ranges = [[var.node_exporter_port, var.node_exporter_port]]
      description = "Prometheus scrapes the host's node exporter"
    }
    airflow_to_kafka_node_exporter = {
      target      = "kafka"
      source      = "airflow"
      port_ranges = [[var.node_exporter_port, var.node_exporter_port]]
      description = "Prometheus scrapes the host's node exporter"
    }
    airflow_to_spark_node_exporter = {
      target      = "spark"
      source      = "airflow"
      port_ranges = [[var.node_exporter_port, var.node_exporter_port]]
      description = "Prometheus scrapes the host's node exporter"
    }
    airflow_to_gold_node_exporter = {
      target      = "gold"
      source      = "airflow"
      port_ranges = [[var.node_exporter_port, var.node_exporter_port]]
      description = "Prometheus scrapes the host's node exporter"
    }
    airflow_to_gold_postgres_exporter = {
      target      = "gold"
      source      = "airflow"
      port_ranges = [[var.postgres_exporter_port, var.postgres_exporter_port]]
      description = "Prometheus scrapes the PostgreSQL exporter"
    }
    airflow_to_kafka_jmx_exporter = {
      target      = "kafka"
      source      = "airflow"
      port_ranges = [for port in local.kafka_jmx_exporter_ports : [port, port]]
      description = "Prometheus scrapes each broker's JMX exporter agent"
    }
    # The stages run their Spark drivers on the master and push the pipeline's figures per
    # date (records per layer, reconciliation, publication) to the Pushgateway beside Prometheus.
    spark_to_airflow_pushgateway = {
      target      = "airflow"
      source      = "spark"
      port_ranges = [[var.pushgateway_port, var.pushgateway_port]]
      description = "The Spark jobs push the pipeline's figures to the Pushgateway"
    }
  }

  group_rules = merge([
    for name, flow in local.group_flows : {
      for span in flow.port_ranges : "${name}_${span[0]}" => {
        target      = flow.target
        source      = flow.source
        from_port   = span[0]
        to_port     = span[1]
        description = flow.description
      }
    }
  ]...)

  # What operators reach from admin_cidr_blocks: the jump host's SSH, nothing else. Every UI,
  # Airflow's too (plain HTTP), is reached through an SSH tunnel over it.
  admin_flows = {
    ssh = {
      target      = "airflow"
      from_port   = 22
      to_port     = 22
      description = "Operators' SSH to the jump host"
    }
  }

  admin_rules = {
    for pair in setproduct(keys(local.admin_flows), var.admin_cidr_blocks) :
    "${pair[0]}_${replace(replace(pair[1], ".", "-"), "/", "_")}" => merge(local.admin_flows[pair[0]], { cidr = pair[1] })
  }

  # Hosts may open connections inside the VPC (the ingress above decides what lands) and
  # reach the internet only on HTTP(S): package mirrors, Maven Central, Docker Hub, AWS APIs.
  egress_flows = {
    vpc = {
      cidr        = var.vpc_cidr_block
      from_port   = 0
      to_port     = 65535
      description = "Connections inside the VPC, filtered by the target's ingress"
    }
    https = {
      cidr        = "0.0.0.0/0"
      from_port   = 443
      to_port     = 443
      description = "HTTPS: AWS APIs, S3, package and artifact repositories"
    }
    http = {
      cidr        = "0.0.0.0/0"
      from_port   = 80
      to_port     = 80
      description = "HTTP: Ubuntu package mirrors (packages are signed)"
    }
  }

  egress_rules = {
    for pair in setproduct(local.roles, keys(local.egress_flows)) :
    "${pair[0]}_${pair[1]}" => merge(local.egress_flows[pair[1]], { role = pair[0] })
  }

  tags = merge(var.tags, { Module = "security" })
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached to the instances by the compute module, which gets the IDs as an input.
  for_each = toset(local.roles)

  name_prefix = "${var.name}-${each.key}-"
  description = "TripClick ${each.key} hosts of ${var.name}"
  vpc_id      = var.vpc_id

  tags = merge(local.tags, { Name = "${var.name}-${each.key}", Role = each.key })

  # Instances hold on to their group; a replacement must exist before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_group" {
  for_each = local.group_rules

  security_group_id            = aws_security_group.this[each.value.target].id
  referenced_security_group_id = aws_security_group.this[each.value.source].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
  description                  = each.value.description

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_security_group_ingress_rule" "from_admin" {
  for_each = local.admin_rules

  security_group_id = aws_security_group.this[each.value.target].id
  cidr_ipv4         = each.value.cidr
  ip_protocol       = "tcp"
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  description       = each.value.description

  tags = merge(local.tags, { Name = "${var.name}-admin-${each.key}" })
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = local.egress_rules

  security_group_id = aws_security_group.this[each.value.role].id
  cidr_ipv4         = each.value.cidr
  ip_protocol       = "tcp"
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  description       = each.value.description

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}
