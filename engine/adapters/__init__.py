"""Adapters: the database models, the unit of work and Core queries, sequences, the blob store, the registers."""
