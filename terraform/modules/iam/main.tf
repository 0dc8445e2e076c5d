data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # One instance profile per security-group role; the Spark master and workers share one.
  roles = ["web", "kafka", "spark", "airflow", "gold"]

  parameter_arn = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${var.ssm_parameter_prefix}"

  tags = merge(var.tags, { Module = "iam" })
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = toset(local.roles)

  name_prefix        = "${var.name}-${each.key}-"
  description        = "TripClick ${each.key} hosts of ${var.name}: instance profile instead of access keys."
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json

  tags = merge(local.tags, { Role = each.key })
}

resource "aws_iam_instance_profile" "this" {
  for_each = toset(local.roles)

  name_prefix = "${var.name}-${each.key}-"
  role        = aws_iam_role.this[each.key].name

  tags = merge(local.tags, { Role = each.key })
}

# Secrets (database passwords, keystore passwords, the Fernet key) live in Parameter Store,
# one folder per service: a host sees the folders of the services it runs and the shared one,
# not the others'.
data "aws_iam_policy_document" "secrets" {
  for_each = toset(local.roles)

  statement {
    sid     = "ReadOwnAndCommonParameters"
    actions = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = flatten([
      for folder in concat(var.parameter_folders[each.key], ["common"]) :
      ["${local.parameter_arn}/${folder}", "${local.parameter_arn}/${folder}/*"]
    ])
  }
}

resource "aws_iam_role_policy" "secrets" {
  for_each = toset(local.roles)

  name   = "read-secrets"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.secrets[each.key].json
}

# The lake: objects of this bucket only, and the key that encrypts them.
data "aws_iam_policy_document" "lake" {
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [var.lake_bucket_arn]
  }

  statement {
    sid = "ReadWriteLakeObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${var.lake_bucket_arn}/*"]
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.lake_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "lake" {
  for_each = toset(var.lake_roles)

  name   = "read-write-lake"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.lake.json
}

# Listing only: Airflow waits for a day's files by their keys and never reads, writes or
# deletes an object (no object action, no key use).
data "aws_iam_policy_document" "lake_list" {
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }
}

resource "aws_iam_role_policy" "lake_list" {
  for_each = toset(var.lake_list_roles)

  name   = "list-lake"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.lake_list.json
}

# Airflow's metadata backups: its hosts write their own prefix of the lake and nothing else
# of it. The lake's key only as S3's means for this bucket (kms:ViaService, and the bucket
# ARN that S3 Bucket Keys put in the encryption context): no direct KMS use.
data "aws_iam_policy_document" "airflow_backups" {
  statement {
    sid       = "ListAirflowBackups"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.airflow_backups_prefix}*"]
    }
  }

  statement {
    sid = "ReadWriteAirflowBackups"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${var.lake_bucket_arn}/${var.airflow_backups_prefix}*"]
  }

  statement {
    sid       = "UseLakeKeyThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.lake_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [var.lake_bucket_arn]
    }
  }
}

resource "aws_iam_role_policy" "airflow_backups" {
  for_each = toset(var.airflow_backup_roles)

  name   = "write-airflow-backups"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.airflow_backups.json
}

# Alerts: publish to the platform's alerts topic and nothing else, with the key that
# encrypts it (SNS encrypts each message with a data key of it on the publisher's behalf).
data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }

  statement {
    sid       = "UseAlertsKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.alerts_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "alerts" {
  for_each = toset(var.alert_publish_roles)

  name   = "publish-alerts"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.alerts.json
}
