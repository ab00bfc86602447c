# Secrets only the edge holds. CONTROL_SECRET signs the control tokens the edge puts in each job
# and checks when a worker dials back (workers only carry the token); TOKEN_SECRET signs browser
# client tokens; the API key is what your server presents to mint them and place calls.
resource "random_password" "control_secret" {
  length  = 48
  special = false
}

resource "random_password" "token_secret" {
  length  = 48
  special = false
}

resource "random_password" "api_key" {
  length  = 40
  special = false
}

locals {
  # The TURN providers in failover order (TURN_PROVIDER): each one listed needs its settings.
  turn_providers = split(",", var.turn_provider)

  api_keys = length(var.api_keys) > 0 ? var.api_keys : ["sk_${random_password.api_key.result}"]

  # Every value `wrangler secret bulk --env production` sets on the edge. Names match the edge's
  # configuration (workers/src/config.ts). AUTH_MODE is always "token": a deployed edge checks
  # client tokens and API keys. Optional settings are listed only when configured, so the edge's
  # defaults apply otherwise; the choice is made on non-secret inputs (Terraform cannot branch on
  # a sensitive value, and a missing TURN key has no attributes to read).
  edge_secret_values = {
    PUBLIC_BASE_URL               = var.edge_public_url
    SQS_QUEUE_URL                 = aws_sqs_queue.jobs.url
    AWS_REGION                    = var.aws_region
    AWS_ACCESS_KEY_ID             = aws_iam_access_key.edge[var.edge_key_active].id
    AWS_SECRET_ACCESS_KEY         = aws_iam_access_key.edge[var.edge_key_active].secret
    CONTROL_SECRET                = random_password.control_secret.result
    TOKEN_SECRET                  = random_password.token_secret.result
    API_KEYS                      = join(",", local.api_keys)
    AUTH_MODE                     = "token"
    MAX_SESSIONS_PER_CLIENT       = tostring(var.max_sessions_per_client)
    CORS_ORIGINS                  = var.cors_origins
    TURN_PROVIDER                 = var.turn_provider
    TWILIO_ACCOUNT_SID            = var.twilio_account_sid
    TWILIO_AUTH_TOKEN             = var.twilio_auth_token
    TWILIO_FROM                   = var.twilio_from
    TELEPHONY_PROVIDER            = var.telephony_provider
    TELNYX_PUBLIC_KEY             = var.telnyx_public_key
    TELNYX_API_KEY                = var.telnyx_api_key
    TELNYX_APP_ID                 = var.telnyx_app_id
    TELNYX_FROM                   = var.telnyx_from
    PLIVO_AUTH_ID                 = var.plivo_auth_id
    PLIVO_AUTH_TOKEN              = var.plivo_auth_token
    PLIVO_FROM                    = var.plivo_from
    CLOUDFLARE_TURN_KEY_ID        = one(cloudflare_calls_turn_app.edge[*].uid)
    CLOUDFLARE_TURN_KEY_API_TOKEN = one(cloudflare_calls_turn_app.edge[*].key)
    TURN_URLS                     = join(",", var.coturn_urls)
    TURN_SECRET                   = var.coturn_secret
  }

  edge_secret_names = concat(
    ["PUBLIC_BASE_URL", "SQS_QUEUE_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "CONTROL_SECRET", "TOKEN_SECRET", "API_KEYS", "AUTH_MODE", "MAX_SESSIONS_PER_CLIENT", "CORS_ORIGINS", "TURN_PROVIDER"],
    var.twilio_account_sid != "" ? ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"] : [],
    var.twilio_from != "" ? ["TWILIO_FROM"] : [],
    ["TELEPHONY_PROVIDER"],
    var.telnyx_public_key != "" ? ["TELNYX_PUBLIC_KEY"] : [],
    var.telnyx_app_id != "" ? ["TELNYX_API_KEY", "TELNYX_APP_ID", "TELNYX_FROM"] : [],
    var.plivo_auth_id != "" ? ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM"] : [],
    contains(local.turn_providers, "cloudflare") ? ["CLOUDFLARE_TURN_KEY_ID", "CLOUDFLARE_TURN_KEY_API_TOKEN"] : [],
    contains(local.turn_providers, "coturn") ? ["TURN_URLS", "TURN_SECRET"] : [],
  )

  edge_secrets = { for k in local.edge_secret_names : k => local.edge_secret_values[k] }
}
