data "aws_ami" "ubuntu" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ami.ubuntu[0].id

  # Each role of ARCHITECTURE section 5: how many hosts, their size, their subnet tier,
  # and which security group and instance profile they share.
  fleet = {
    web = {
      count         = var.web_instance_count
      instance_type = var.web_instance_type
      volume_size   = var.web_root_volume_size
      tier          = "public"
      access        = "web"
    }
    kafka = {
      count         = var.kafka_instance_count
      instance_type = var.kafka_instance_type
      volume_size   = var.kafka_root_volume_size
      tier          = "private"
      access        = "kafka"
    }
    spark_master = {
      count         = 1
      instance_type = var.spark_master_instance_type
      volume_size   = var.spark_root_volume_size
      tier          = "private"
      access        = "spark"
    }
    spark_worker = {
      count         = var.spark_worker_instance_count
      instance_type = var.spark_worker_instance_type
      volume_size   = var.spark_root_volume_size
      tier          = "private"
      access        = "spark"
    }
    airflow = {
      count         = 1
      instance_type = var.airflow_instance_type
      volume_size   = var.airflow_root_volume_size
      tier          = "public"
      access        = "airflow"
    }
    gold = {
      count         = 1
      instance_type = var.gold_instance_type
      volume_size   = var.gold_root_volume_size
      tier          = "private"
      access        = "gold"
    }
  }

  # Broker n (0-based) lives on Kafka host n mod kafka_instance_count; its position on that
  # host picks its ports (kafka_port_step apart), so one host can carry all three brokers of
  # the default fleet. The Ansible kafka layout (group_vars/all/kafka_cluster.yml) is the same.
  kafka_node_ids = {
    for i in range(var.kafka_instance_count) :
    i => [for n in range(var.kafka_broker_count) : n + 1 if n % var.kafka_instance_count == i]
  }
  kafka_brokers_per_instance = ceil(var.kafka_broker_count / var.kafka_instance_count)

  spark_workers = {
    spark_master = var.spark_master_runs_workers ? var.spark_workers_per_instance : 0
    spark_worker = var.spark_workers_per_instance
  }

  instances = merge([
    for role, spec in local.fleet : {
      # Host names use hyphens (spark-master-0): they end up in DNS-like places (Name, hostname).
      for i in range(spec.count) : "${replace(role, "_", "-")}-${i}" => merge(spec, {
        role  = role
        index = i
        # Inventory groups of the host: its role, plus spark_worker where the master runs workers too.
        groups = compact([
          role,
          role == "spark_master" && local.spark_workers.spark_master > 0 ? "spark_worker" : "",
        ])
        subnet_id = (
          spec.tier == "public"
          ? var.public_subnet_ids[i % length(var.public_subnet_ids)]
          : var.private_subnet_ids[i % length(var.private_subnet_ids)]
        )
        kafka_node_ids = role == "kafka" ? local.kafka_node_ids[i] : []
        spark_workers  = lookup(local.spark_workers, role, 0)
      })
    }
  ]...)

  tags = merge(var.tags, { Module = "compute" })
}

resource "aws_key_pair" "this" {
  count = var.ssh_public_key == null ? 0 : 1

  key_name_prefix = "${var.name}-"
  public_key      = var.ssh_public_key

  tags = local.tags
}

# The jump host's address outlives stops and replacements, so operators' SSH config and
# the private hosts' JumpHost tag stay right.
resource "aws_eip" "jump" {
  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.name}-airflow-jump" })
}

resource "aws_eip_association" "jump" {
  instance_id   = aws_instance.this["airflow-0"].id
  allocation_id = aws_eip.jump.id
}

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring costs about 2 USD per host a month; the daily run is watched by Airflow and 5-minute metrics suffice.
  for_each = local.instances

  ami                  = local.ami_id
  instance_type        = each.value.instance_type
  subnet_id            = each.value.subnet_id
  iam_instance_profile = var.instance_profile_names[each.value.access]
  key_name             = var.ssh_public_key == null ? null : aws_key_pair.this[0].key_name

  vpc_security_group_ids = [var.security_group_ids[each.value.access]]

  # Public subnets route to the internet gateway only: web servers need their own address to
  # pull images. The jump host gets the Elastic IP instead.
  associate_public_ip_address = each.value.role == "web"

  ebs_optimized           = true
  disable_api_termination = var.termination_protection
  # Detailed (1-minute) monitoring costs per instance; the daily batch is watched by Airflow.
  monitoring = false

  # IMDSv2 only, and one hop: containers on the web servers cannot borrow the host's role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = each.value.volume_size
    encrypted             = true
    kms_key_id            = var.root_volume_kms_key_id
    delete_on_termination = true

    tags = merge(local.tags, { Name = "${var.name}-${each.key}-root", Role = each.value.role })
  }

  dynamic "credit_specification" {
    for_each = startswith(each.value.instance_type, "t") ? [var.burstable_cpu_credits] : []

    content {
      cpu_credits = credit_specification.value
    }
  }

  # The dynamic inventory (inventory/*.aws_ec2.yml) builds its groups and host vars from these.
  tags = merge(local.tags, {
    Name         = "${var.name}-${each.key}"
    Role         = each.value.role
    RoleIndex    = tostring(each.value.index)
    SparkWorkers = tostring(each.value.spark_workers)
    KafkaNodeIds = join(" ", [for id in each.value.kafka_node_ids : tostring(id)])
    LakeBucket   = var.lake_bucket_name
    JumpHost     = each.value.role == "airflow" ? "" : aws_eip.jump.public_ip
  })

  lifecycle {
    # A newer Ubuntu image must not replace a provisioned fleet; roll it out deliberately.
    ignore_changes = [ami]
  }
}
