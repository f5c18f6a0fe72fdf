# orgguard's account baseline as an AFT account customization: every account whose account request
# names this customization (account_customizations_name = "ORGGUARD_BASELINE") gets the runbook roles once
# and, in each region, the runbook documents, Config rules, remediation bindings and fast path.
#
# ./modules/ is `orgguard synth` output (cdktf.out/modules/), committed beside this file so that a change
# to the baseline reaches accounts only as a reviewed pull request (docs/vending-pipelines.md). The modules
# configure no provider: AFT's rendered aft-providers.jinja is already in the vended account, one provider
# per region. Keep one regional block per region of the governance file's organization.regions.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}

module "orgguard_global" {
  source     = "./modules/orgguard-account-global"
  account_id = local.account_id # IAM is global: the roles are created once, through the default provider
}

module "orgguard_us_east_1" {
  source     = "./modules/orgguard-account-regional"
  providers  = { aws = aws } # AFT's default provider, in its home region
  account_id = local.account_id
  region     = "us-east-1"
  role_arns  = module.orgguard_global.role_arns
}

module "orgguard_eu_west_1" {
  source     = "./modules/orgguard-account-regional"
  providers  = { aws = aws.eu_west_1 }
  account_id = local.account_id
  region     = "eu-west-1"
  role_arns  = module.orgguard_global.role_arns
}

module "orgguard_ap_northeast_1" {
  source     = "./modules/orgguard-account-regional"
  providers  = { aws = aws.ap_northeast_1 }
  account_id = local.account_id
  region     = "ap-northeast-1"
  role_arns  = module.orgguard_global.role_arns
}
