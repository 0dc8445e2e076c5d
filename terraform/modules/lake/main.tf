locals {
  tags = merge(var.tags, { Module = "lake" })
}

# A key of the lake's own, so reading the lake needs a grant on it as well as on the bucket.
module "key" {
  source = "../kms_key"

  name        = var.bucket_name
  description = "Encrypts the objects of the ${var.bucket_name} lake."

  tags = local.tags
}

# The key was defined here before the kms_key module existed: the same key, not a new one.
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.key.aws_kms_alias.this
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV2_AWS_62:Nothing reacts to object events: Airflow runs the stages on a schedule.
  #checkov:skip=CKV_AWS_18:Only the instance roles can reach the lake; audit object access with CloudTrail data events rather than a second bucket of access logs.
  #checkov:skip=CKV_AWS_144:A second-region copy doubles storage cost; versioning covers bad re-runs and Kafka can replay the recent days.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy

  tags = merge(local.tags, { Name = var.bucket_name })
}

# ACLs off: access is decided by IAM and the bucket policy alone.
resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versions make a bad re-run of a day recoverable until they expire.
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.arn
    }
    # One data key per bucket instead of per object: Spark writes many small files.
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 rejects a policy while the public access block is still being applied.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# How long each layer is kept: docs/retention.md gives the numbers and why. Bronze, the only
# full copy of what Kafka received, is kept longest and moves to cheaper storage first.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "bronze-to-cheaper-storage"
    status = "Enabled"

    filter {
      prefix = var.bronze_prefix
    }

    transition {
      days          = var.bronze_infrequent_access_days
      storage_class = "STANDARD_IA"
    }

    transition {
      days          = var.bronze_glacier_ir_days
      storage_class = "GLACIER_IR"
    }

    expiration {
      days = var.expiration_days[var.bronze_prefix]
    }
  }

  # Every other layer only expires: silver and the reports are rebuilt from bronze, quarantine
  # and checkpoints are useful for days, and the nightly backups are pruned by count already.
  dynamic "rule" {
    for_each = { for prefix, days in var.expiration_days : prefix => days if prefix != var.bronze_prefix }

    content {
      id     = "expire-${trimsuffix(trimprefix(rule.key, "_"), "/")}"
      status = "Enabled"

      filter {
        prefix = rule.key
      }

      expiration {
        days = rule.value
      }
    }
  }

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # An expired object leaves a delete marker; once its old versions are gone it is removed.
    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Lifecycle rules on an unversioned bucket would apply to the wrong versions.
  depends_on = [aws_s3_bucket_versioning.this]
}
