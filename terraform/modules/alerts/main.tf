locals {
  tags = merge(var.tags, { Module = "alerts" })
}

# A key of the topic's own, as the lake has: publishing needs a grant on it as well as on the
# topic, and the alert text (task, DAG, error) is encrypted at rest.
module "key" {
  source = "../kms_key"

  name        = var.name
  description = "Encrypts the messages of the ${var.name} SNS topic."

  tags = local.tags
}

# Where the platform's alerts go: Airflow publishes a task's final failure here
# (dags/tripclick_dags/alerts.py); each subscriber, an email address for one, gets every alert.
resource "aws_sns_topic" "this" {
  name              = var.name
  display_name      = "TripClick alerts"
  kms_master_key_id = module.key.arn

  tags = merge(local.tags, { Name = var.name })
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

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

# Only a deny: the account's own roles publish through their IAM policies (the iam module
# grants sns:Publish on this topic alone), and nobody else is allowed.
resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

# A person who gets the alerts by email. AWS mails a confirmation link first; nothing is
# delivered until it is followed (docs/runbook.md, "Alerts").
resource "aws_sns_topic_subscription" "email" {
  count = var.alert_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alert_email
}
