"""Demo caseloads built through the real runtime, and their sign-in casts."""
