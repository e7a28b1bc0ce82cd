"""The synthetic demo: people, cases and timelines written through the apps' actions."""
