provider "aws" {
  region = var.aws_region

  # Every taggable resource carries these; the dynamic inventory filters on the first two.
  default_tags {
    tags = {
      Project     = "tripclick"
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}
