"""Running an installation: backup and restore, key rotation, failed jobs, the server CLI."""
