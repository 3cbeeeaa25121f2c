"""The SMOE (foreign-labour service; since 2021 the interregional platforms): the work authorisation."""
