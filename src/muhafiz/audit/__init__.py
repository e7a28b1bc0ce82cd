"""The tamper-evident audit log: a hash-chained record of every write and sensitive read."""
