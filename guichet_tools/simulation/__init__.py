"""`guichet simulate`: the four agencies over the bus on a virtual clock."""
