# dev: the default fleet of ARCHITECTURE section 5 in one zone; the lake may be deleted with
# the environment, and nothing is protected from `make destroy`.
module "platform" {
  source = "../../modules/platform"

  environment        = "dev"
  az_count           = 1
  enable_nat_gateway = true
  lake_force_destroy = true

  admin_cidr_blocks = var.admin_cidr_blocks
  ssh_public_key    = var.ssh_public_key
  alert_email       = var.alert_email
}
