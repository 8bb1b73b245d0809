"""Data-subject rights: consents, data exports, account deletion and erasure."""
