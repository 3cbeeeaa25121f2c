"""The command line: `guichet` and its commands. Argument parsing and printing only; what a
command does lives in the runtime (guichet), the agencies (services), the operator tools
(guichet_operations) and the simulation kit (guichet_simulation)."""
