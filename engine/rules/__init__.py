"""Pure rules: definitions, workflow, deadlines, forms, prefill rules, audit, metrics. Standard library, yaml and transitions only."""
