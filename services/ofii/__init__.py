"""The DT-OFII: the single window between the employer and the other administrations."""
