"""Use cases, one module per concept, each taking its dependencies explicitly."""
