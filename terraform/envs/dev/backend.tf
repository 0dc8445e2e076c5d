terraform {
  # Partial configuration: `make bootstrap` creates the state bucket and writes its name and
  # region to .local/terraform/backend.hcl, which `make plan|apply|destroy ENV=dev` hand to init.
  # use_lockfile keeps a lock object next to the state, so two applies cannot interleave.
  backend "s3" {
    key          = "tripclick/dev/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
