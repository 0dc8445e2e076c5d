# prod: two zones, the three Kafka brokers on three hosts (one failure keeps the quorum and
# replication 2), Spark workers on hosts of their own, and nothing deleted by accident:
# the lake is kept on destroy and the instances refuse API termination.
module "platform" {
  source = "../../modules/platform"

  environment             = "prod"
  az_count                = 2
  enable_nat_gateway      = true
  lake_force_destroy      = false
  flow_log_retention_days = 731

  fleet = {
    kafka_instance_count        = 3
    spark_master_runs_workers   = false
    spark_worker_instance_count = 2
    termination_protection      = true
  }

  admin_cidr_blocks = var.admin_cidr_blocks
  ssh_public_key    = var.ssh_public_key
  alert_email       = var.alert_email
}
