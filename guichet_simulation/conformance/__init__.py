"""`guichet conformance`: proves a third-party agency connector on a live bus by playing the other
three agencies around it and comparing what it does with a reference run of the Python agency."""
