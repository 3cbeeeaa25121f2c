"""The simulation kit: scenarios, `guichet simulate` on a virtual clock, generated dossiers, the
benchmarks, the chaos run and the launcher of service processes. Production commands never import it."""
