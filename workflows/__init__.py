"""The PACE domain: roles, milestones, due-rule vocabulary, demo caseload.

No Flask and no SQL text here; the engine is driven through its public functions.
"""
