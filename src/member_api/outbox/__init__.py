"""The transactional outbox: every message that leaves the service, queued with the
change that caused it and delivered (at most once by our side) by a worker."""
