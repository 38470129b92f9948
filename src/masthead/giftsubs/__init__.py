"""Gift subscriptions: 1, 3, 6 or 12 months bought for someone by e-mail (docs/gift-subscriptions.md)."""
