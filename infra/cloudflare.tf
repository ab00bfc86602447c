# The Cloudflare side Terraform owns: the TURN key the edge mints per-session credentials from.
# The edge Worker (code, CallSession Durable Object class and its migration, rate limiter, vars)
# is owned by `wrangler deploy` from workers/wrangler.jsonc, and its secrets are set with
# `wrangler secret bulk` from the `edge_secrets` output: one owner per resource, no drift fights.
resource "cloudflare_calls_turn_app" "edge" {
  count = contains(local.turn_providers, "cloudflare") ? 1 : 0

  account_id = var.cloudflare_account_id
  name       = "${var.name}-turn"

  lifecycle {
    precondition {
      condition     = var.cloudflare_account_id != ""
      error_message = "turn_provider 'cloudflare' needs cloudflare_account_id."
    }
  }
}
