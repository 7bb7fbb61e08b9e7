"""Test helpers that are real parts: servers on loopback (KoBo, SMTP) and synthetic inputs."""
