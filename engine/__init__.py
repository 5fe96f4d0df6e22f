"""MotCua engine: procedure definitions, workflow, deadlines and persistence rules."""
