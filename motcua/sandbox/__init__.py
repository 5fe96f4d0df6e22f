"""Stand-ins of outside services, for tests and demonstrations (``motcua sandbox ...``)."""
