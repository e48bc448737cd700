"""partners: partner organisations' webhook subscriptions (Standard Webhooks deliveries of CloudEvents)."""
