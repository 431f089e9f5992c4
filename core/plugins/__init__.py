"""The plugin platform: loading (manager), per-council settings (services), and durable
calls with the transactional outbox (calls). See docs/plugins/hooks.md and guide.md."""
