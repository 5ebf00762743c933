"""Rate limits: token buckets per API key and per anonymous client address, kept in this
process or shared through Redis, enforced by the `RateLimits` middleware."""
