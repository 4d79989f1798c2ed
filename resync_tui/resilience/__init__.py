"""Resilience core: retry, circuit breakers, tiered cache, metrics. No UI, no HWA."""
