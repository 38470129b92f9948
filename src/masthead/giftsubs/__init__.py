"""Gift subscriptions: months bought for someone by e-mail (docs/gift-subscriptions.md)."""
